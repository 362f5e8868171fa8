package archive

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/mailferry/mailferry/format"
	"github.com/restic/chunker"
)

// How a message is cut into chunks (DESIGN.md, "The archive"): the header
// section is one chunk, so that copies of one mail that differ only in their
// trace headers share the body; the body is cut by content-defined chunking,
// so that an attachment forwarded inside another message is found again.
const (
	maxHeaderChunk = 1 << 20   // a longer header section continues as body
	minBodyChunk   = 32 << 10  // bodies shorter than this are one chunk
	maxBodyChunk   = 1 << 20   // no chunk is longer
	avgChunkBits   = 17        // body chunks average 128 KiB
	readBufferSize = 256 << 10 // buffered read from the source
)

// splitter cuts one message at a time; it is reused between messages so its
// buffers are allocated once.
type splitter struct {
	br  *bufio.Reader
	ch  *chunker.Chunker
	hdr []byte
	buf []byte
	// isHeader says whether the message being split began with a header
	// chunk (an empty header section gives none).
	isHeader bool
}

func newSplitter() *splitter {
	return &splitter{
		br:  bufio.NewReaderSize(nil, readBufferSize),
		ch:  chunker.NewWithBoundaries(nil, chunker.Pol(format.ChunkerPolynomial), minBodyChunk, maxBodyChunk),
		buf: make([]byte, maxBodyChunk),
	}
}

// split reads r to its end and calls fn with each chunk in order. The slice
// passed to fn is only valid during the call.
func (s *splitter) split(r io.Reader, fn func([]byte) error) error {
	s.br.Reset(r)
	hdr, err := readHeaderSection(s.br, s.hdr[:0])
	s.hdr = hdr[:0]
	s.isHeader = len(hdr) > 0
	if err != nil {
		return err
	}
	if len(hdr) > 0 {
		if err := fn(hdr); err != nil {
			return err
		}
	}
	s.ch.ResetWithBoundaries(&stickyReader{r: s.br}, chunker.Pol(format.ChunkerPolynomial), minBodyChunk, maxBodyChunk)
	s.ch.SetAverageBits(avgChunkBits)
	for {
		c, err := s.ch.Next(s.buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(c.Data); err != nil {
			return err
		}
	}
}

// readHeaderSection appends to dst the header lines up to and including the
// empty line that ends them, stopping early at EOF or once maxHeaderChunk
// bytes are read (a header chunk may pass that by one buffered read).
func readHeaderSection(br *bufio.Reader, dst []byte) ([]byte, error) {
	atLineStart := true
	for len(dst) < maxHeaderChunk {
		line, err := br.ReadSlice('\n')
		dst = append(dst, line...)
		switch {
		case err == nil:
			if atLineStart && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
				return dst, nil
			}
			atLineStart = true
		case errors.Is(err, bufio.ErrBufferFull):
			atLineStart = false
		case err == io.EOF:
			return dst, nil
		default:
			return dst, err
		}
	}
	return dst, nil
}

// stickyReader hands the chunker a reader whose errors cannot be mistaken:
// restic/chunker takes io.ErrUnexpectedEOF from its io.ReadFull as a short
// read and reads on, so a source failing with that error (a TLS connection
// cut mid-record does) would be read forever. Any error but io.EOF is
// wrapped, and repeated on every later read.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = fmt.Errorf("%w", err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			s.err = fmt.Errorf("message cut short: %w", err)
		}
		return n, s.err
	}
	return n, err
}
