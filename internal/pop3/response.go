package pop3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineLength bounds a status or listing line. RFC 2449 allows 512
// octets; the slack is for servers with chatty greetings, the bound for
// servers that never send a line end.
const maxLineLength = 8 << 10

// Bounds of a listing (LIST, UIDL, CAPA), which is held in memory whole:
// a million messages with UIDLs of up to 60 characters fit (no POP3
// maildrop comes near), an endless listing does not take what it wants.
const (
	maxListingLines = 1_000_000
	maxListingBytes = 64 << 20
)

// readLine reads one line and returns it without its line end. A bare LF
// ends a status line too: being lenient here costs nothing, unlike in a
// message body.
func (c *Client) readLine() (string, error) {
	var line []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineLength {
			return "", fmt.Errorf("%w: %w: line longer than %d bytes", ErrProtocol, ErrLimit, maxLineLength)
		}
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	s := strings.TrimSuffix(string(line), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// status is one parsed status line.
type status struct {
	kind byte   // '+' for +OK, '-' for -ERR, 'c' for a SASL continuation "+ "
	text string // what follows the indicator and its space
}

// readAnswer reads a status line; an unreadable or malformed one breaks the
// connection. op names the command in errors; secrets are kept out of them.
func (c *Client) readAnswer(op string, secrets []string) (status, error) {
	line, err := c.readLine()
	if err != nil {
		return status{}, c.fail(op, fmt.Errorf("read answer: %w", err))
	}
	for _, s := range []struct {
		prefix string
		kind   byte
	}{{"+OK", '+'}, {"-ERR", '-'}, {"+", 'c'}} {
		rest, ok := strings.CutPrefix(line, s.prefix)
		if ok && (rest == "" || rest[0] == ' ') {
			return status{kind: s.kind, text: strings.TrimPrefix(rest, " ")}, nil
		}
	}
	return status{}, c.fail(op, fmt.Errorf("%w: answer %q is neither +OK nor -ERR", ErrProtocol, redact(line, secrets)))
}

// readStatus reads the answer to a command that takes no continuation and
// returns the text after +OK, or an *Error for -ERR.
func (c *Client) readStatus(op string, secrets []string) (string, error) {
	st, err := c.readAnswer(op, secrets)
	if err != nil {
		return "", err
	}
	switch st.kind {
	case '+':
		return st.text, nil
	case '-':
		return "", newError(op, st.text, secrets)
	}
	return "", c.fail(op, fmt.Errorf("%w: unexpected continuation %q", ErrProtocol, redact(st.text, secrets)))
}

// newError builds the *Error for a -ERR answer.
func newError(op, text string, secrets []string) *Error {
	text = redact(text, secrets)
	e := &Error{Command: op, Text: text}
	// RFC 2449 section 8: "-ERR [IN-USE] ..."; codes are hierarchical with
	// "/" (SYS/TEMP).
	if rest, ok := strings.CutPrefix(text, "["); ok {
		if code, _, ok := strings.Cut(rest, "]"); ok && !strings.ContainsAny(code, " \t") {
			e.Code = code
		}
	}
	return e
}

// readLines reads the body of a short multi-line answer (CAPA, LIST, UIDL)
// as lines without their line ends.
func (c *Client) readLines(op string) ([]string, error) {
	sc := bufio.NewScanner(newDotReader(c.br))
	sc.Buffer(make([]byte, 0, 512), maxLineLength)
	var lines []string
	size := 0
	for sc.Scan() {
		if size += len(sc.Bytes()); size > maxListingBytes || len(lines) >= maxListingLines {
			return nil, c.fail(op, fmt.Errorf("%w: %w: listing longer than %d lines or %d bytes", ErrProtocol, ErrLimit, maxListingLines, maxListingBytes))
		}
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: %w: line longer than %d bytes", ErrProtocol, ErrLimit, maxLineLength)
		}
		return nil, c.fail(op, fmt.Errorf("read listing: %w", err))
	}
	return lines, nil
}
