package mailconn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// RawConn is a logged-in IMAP connection on which the caller speaks IMAP
// itself, for what go-imap (v2 beta.8) cannot say: a folder name that is
// not valid modified UTF-7, which it does not decode, or one in raw 8-bit
// UTF-8, which it sends back encoded; neither comes back as it came. It is set up as an Appender's is (TLS, greeting, login); each read
// and write has Options.Timeout, it is closed when DialRaw's context ends,
// and what it reads is bounded (see Next). One command at a time.
type RawConn struct {
	conn    net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	caps    imap.CapSet
	unwatch func() bool
	tag     int
	lit     literalReader // the literal Next returned last
	line    int           // bytes of the current response, literals aside
	ended   bool          // the current response was read to its end
}

// DialRaw connects and logs in like DialAppender, for a RawConn.
func (d *Dialer) DialRaw(ctx context.Context) (*RawConn, error) {
	a, err := d.DialAppender(ctx)
	if err != nil {
		return nil, err
	}
	// The Appender has sent nothing but its setup: its connection is
	// handed over as it is.
	return &RawConn{conn: a.conn, br: a.br, bw: a.bw, caps: a.caps, unwatch: a.unwatch, tag: a.tag}, nil
}

// Caps returns the server's capabilities once logged in.
func (c *RawConn) Caps() imap.CapSet { return c.caps }

// Arg is one argument of a command.
type Arg struct {
	s       string
	astring bool
}

// Atom is an argument sent as written (an atom, a number, a list).
func Atom(s string) Arg { return Arg{s: s} }

// Astring is an argument sent as a quoted string, or as a literal where a
// quoted string cannot carry it (8-bit, CR, LF): byte for byte as given,
// without modified UTF-7 encoding.
func Astring(s string) Arg { return Arg{s: s, astring: true} }

// Run sends the command verb args and reads its responses up to the
// tagged one. Each untagged response goes to untagged, which reads it with
// Next from the token after "*"; what it leaves unread is skipped. Run
// returns nil for OK, a *CommandError for NO or BAD, untagged's error, or
// the connection's; after any but a *CommandError the connection is out
// of step and must be closed.
func (c *RawConn) Run(untagged func() error, verb string, args ...Arg) error {
	c.tag++
	tag := fmt.Sprintf("r%d", c.tag)
	c.bw.WriteString(tag + " " + verb)
	for _, a := range args {
		c.bw.WriteByte(' ')
		if !a.astring {
			c.bw.WriteString(a.s)
			continue
		}
		if quotable(a.s) {
			c.bw.WriteString(quote(a.s))
			continue
		}
		if err := c.literal(tag, a.s); err != nil {
			return err
		}
	}
	c.bw.WriteString("\r\n")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	_, err := c.await(tag, verb, untagged, false)
	return err
}

// literal sends s as a literal of command tag: non-synchronizing with
// LITERAL+, else after the server's continuation.
func (c *RawConn) literal(tag, s string) error {
	if c.caps.Has(imap.CapLiteralPlus) {
		fmt.Fprintf(c.bw, "{%d+}\r\n%s", len(s), s)
		return nil
	}
	fmt.Fprintf(c.bw, "{%d}\r\n", len(s))
	if err := c.bw.Flush(); err != nil {
		return err
	}
	continued, err := c.await(tag, "a literal", nil, true)
	if err == nil && !continued {
		err = fmt.Errorf("server answered %s before its literal was sent", tag)
	}
	if err != nil {
		return err
	}
	c.bw.WriteString(s)
	return nil
}

// await reads responses to command tag, untagged ones through untagged
// (see Run), until its tagged answer, whose error it returns, or, with
// cont, a continuation request: then continued is true.
func (c *RawConn) await(tag, what string, untagged func() error, cont bool) (continued bool, err error) {
	for {
		t, err := c.start()
		if err != nil {
			return false, err
		}
		switch {
		case t.Text == "*":
			if err := c.untagged(untagged); err != nil {
				return false, err
			}
		case t.Text == "+" && cont:
			_, err := c.Rest()
			return true, err
		case t.Text == tag:
			return false, c.status(tag)
		default:
			return false, fmt.Errorf("%w: response %q to %s", errRawSyntax, t.Text, what)
		}
	}
}

// start reads the first token of a response: "*", "+" or a tag.
func (c *RawConn) start() (Token, error) {
	c.line, c.ended = 0, false
	t, err := c.Next()
	if err == nil && t.Kind != TokenAtom {
		err = fmt.Errorf("%w: a response starting with %v", errRawSyntax, t.Kind)
	}
	return t, err
}

// untagged hands an untagged response to fn (nil: skip it). A BYE means
// the server is closing the connection.
func (c *RawConn) untagged(fn func() error) error {
	if b, _ := c.br.Peek(4); strings.EqualFold(string(b), " BYE") {
		text, _ := c.Rest()
		return &lostError{&imap.Error{Type: imap.StatusResponseTypeBye, Text: strings.TrimSpace(text)}}
	}
	if fn != nil {
		if err := fn(); err != nil {
			return err
		}
	}
	return c.skip()
}

// status reads the rest of tag's answer.
func (c *RawConn) status(tag string) error {
	text, err := c.Rest()
	if err != nil {
		return err
	}
	return status(tag+text, tag)
}

// skip reads what is left of the current response.
func (c *RawConn) skip() error {
	for !c.ended {
		t, err := c.Next()
		if err != nil || t.Kind == TokenEnd {
			return err
		}
	}
	return nil
}

// Close logs out without waiting for the answer, and closes the connection.
func (c *RawConn) Close() error {
	c.unwatch()
	c.tag++
	fmt.Fprintf(c.bw, "r%d LOGOUT\r\n", c.tag)
	c.bw.Flush()
	return c.conn.Close()
}

// errRawSyntax marks what a RawConn could not parse: the server's data,
// which a retry would meet again, so it is no connection error.
var errRawSyntax = errors.New("unparsable response")
