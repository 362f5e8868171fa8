package pop3

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// Retr retrieves message n and returns its bytes as a stream: with the
// dot-stuffing undone and without the terminating line, every other byte
// (CRLF, bare LF, 8-bit octets, long lines) as the server sent it. Memory
// use does not grow with the message.
//
// The client stays busy until the reader has returned io.EOF or been
// closed: read it to the end or Close it (which reads and discards the rest
// so the connection stays usable) before the next command, or that command
// waits forever. ctx bounds the whole transfer. The reader is for one
// goroutine.
func (c *Client) Retr(ctx context.Context, n int) (io.ReadCloser, error) {
	if err := checkNumber(n); err != nil {
		return nil, err
	}
	op := "RETR " + strconv.Itoa(n)
	if err := c.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := c.send(op, op); err != nil {
		c.end()
		return nil, err
	}
	if _, err := c.readStatus(op, nil); err != nil {
		c.end()
		return nil, err
	}
	return &messageReader{c: c, op: op, body: newDotReader(c.br)}, nil
}

// messageReader is the body of one RETR; it holds the client until done.
type messageReader struct {
	c    *Client
	op   string
	body *dotReader
	done bool  // the client has been given back
	err  error // why the body could not be read to its end
}

func (m *messageReader) Read(p []byte) (int, error) {
	if m.done {
		if m.err != nil {
			return 0, m.err
		}
		return 0, io.EOF
	}
	n, err := m.body.Read(p)
	switch {
	case err == io.EOF:
		m.release(nil)
	case err != nil:
		m.release(m.c.fail(m.op, fmt.Errorf("read message: %w", err)))
		err = m.err
	}
	return n, err
}

// Close reads and discards the rest of the message. It returns an error if
// that failed, in which case the client is unusable.
func (m *messageReader) Close() error {
	if m.done {
		return nil
	}
	if err := m.body.drain(); err != nil {
		m.release(m.c.fail(m.op, fmt.Errorf("skip rest of message: %w", err)))
		return m.err
	}
	m.release(nil)
	return nil
}

func (m *messageReader) release(err error) {
	m.done, m.err = true, err
	m.c.end()
}
