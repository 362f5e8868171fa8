package mailconn

import (
	"bufio"
	"io"
	"strings"
)

// maxKeptLine bounds a line that mailconn reads itself (greetings, the
// answers an Appender waits for): nothing it looks for is longer.
const maxKeptLine = 64 << 10

// readBoundedLine reads one line from br and returns it without its line
// end; a line over maxKeptLine fails with ErrServerLimit rather than grow
// without bound.
func readBoundedLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > maxKeptLine {
			return "", limitError("a line longer than %d bytes", maxKeptLine)
		}
		b = append(b, chunk...)
		switch err {
		case nil:
			return strings.TrimRight(string(b), "\r\n"), nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(b) > 0 {
				return "", io.ErrUnexpectedEOF
			}
		}
		return "", err
	}
}
