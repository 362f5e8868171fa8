package mailconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/format"
)

// ErrLiteralRefused is returned by AppendMessage when the server answered
// a synchronizing literal with NO or BAD instead of a continuation (as
// Dovecot does for a message over its size limit). The message's bytes
// were not sent and its APPEND is over: AppendMessage returns
// ErrLiteralRefused for the rest of it, EndAppend writes nothing, and
// Result returns the server's answer for it, in order.
var ErrLiteralRefused = errors.New("server refused the message before its bytes were sent")

// ErrNoBinary is returned by AppendMessage when asked for a binary literal
// (RFC 3516) on a server without BINARY. Nothing was written.
var ErrNoBinary = errors.New("server does not offer BINARY (RFC 3516), which a message with NUL bytes needs")

// Appender sends APPENDs on a connection of its own, many in flight at
// once. go-imap (v2 beta.8) waits for the server's answer to every
// command and for its continuation before every literal over 4 KiB: one
// round trip per message, and the server handles one APPEND at a time.
// Traced on an import, that wait was 95% of the time. With LITERAL+
// (RFC 7888) an Appender never waits; without it, it waits for each
// literal's continuation but still not for answers. An Appender speaks
// only what an import needs: greeting (PREAUTH too), CAPABILITY, STARTTLS,
// LOGIN or AUTHENTICATE PLAIN, SELECT, APPEND, LOGOUT.
//
// One goroutine sends (Select, BeginAppend, AppendMessage, EndAppend,
// Flush) while another may read the answers (Result). Whichever needs a
// line from the server and finds the other not reading reads it and hands
// it on: the sender's continuations and Result's answers both arrive on
// the one connection.
type Appender struct {
	conn    net.Conn      // TLS or TCP
	br      *bufio.Reader // read in wait only, by one goroutine at a time
	bw      *bufio.Writer // the sender's
	timeout time.Duration // of each read and write
	unwatch func() bool   // ends the watch of DialAppender's context
	caps    imap.CapSet   // set while dialling, read-only after
	preauth bool

	// The sender's side: its tags, the mailbox of the last SELECT sent,
	// and the APPEND begun: its tag, mailbox, messages written, and
	// whether the server refused one of its literals.
	tag               int
	selected          string
	open, openMailbox string
	messages          int
	refused           bool

	mu      sync.Mutex
	cond    sync.Cond // on mu: a line was read, or reading stopped
	reading bool      // a goroutine is reading the connection
	readErr error     // the connection failed; nothing more comes
	conts   []string  // continuation requests not yet taken
	answers map[string]string
	capLine string           // the last CAPABILITY data
	pending []pendingCommand // sent, oldest first
	// selectFailed is set when a SELECT was refused, so that the sender
	// tries again before the next APPEND.
	selectFailed bool
}

// pendingCommand is a command sent whose tagged answer is still to read.
type pendingCommand struct {
	tag    string
	append bool // an APPEND, whose answer Result returns; else a SELECT
}

// AppendResult is the outcome of one APPEND.
type AppendResult struct {
	// From APPENDUID (UIDPLUS): the UIDs of the messages in the order
	// sent. Empty without UIDPLUS.
	UIDs        []uint32
	UIDValidity uint32
}

// CommandError is the server's NO or BAD for one command.
type CommandError struct {
	Status, Text string
}

func (e *CommandError) Error() string { return e.Status + " " + e.Text }

func newAppender(conn net.Conn, timeout time.Duration) *Appender {
	a := &Appender{timeout: timeout, answers: map[string]string{}}
	a.cond.L = &a.mu
	a.attach(conn)
	return a
}

// attach makes conn the Appender's connection (again after STARTTLS).
func (a *Appender) attach(conn net.Conn) {
	tc := timedConn{conn, a.timeout, nil}
	a.conn, a.br, a.bw = conn, bufio.NewReaderSize(tc, 16<<10), bufio.NewWriterSize(tc, 64<<10)
}

// MultiAppend reports whether the server takes several messages in one
// APPEND (RFC 3502 MULTIAPPEND).
func (a *Appender) MultiAppend() bool { return a.caps.Has(imap.CapMultiAppend) }

// LiteralPlus reports whether the server takes non-synchronizing literals
// of any size (RFC 7888 LITERAL+), so that AppendMessage never waits.
func (a *Appender) LiteralPlus() bool { return a.caps.Has(imap.CapLiteralPlus) }

// Binary reports whether the server takes binary literals in APPEND
// (RFC 3516 BINARY; part of IMAP4rev2), the only way to send a message
// with NUL bytes as it is.
func (a *Appender) Binary() bool {
	return a.caps.Has(imap.CapBinary) || a.caps.Has(imap.CapIMAP4rev2)
}

// Select makes mailbox the selected one (buffered, like Append) unless it
// already is. APPEND names its mailbox anyway; selecting it first is what
// makes appends cheap on Dovecot, which otherwise opens and syncs the
// mailbox's index for every APPEND, work that grows with the mailbox:
// measured on 20,000 messages, 1,540 messages/s selected against 600 not.
// A refused SELECT costs nothing but that speed: the next Select sends it
// again.
func (a *Appender) Select(mailbox string) {
	a.mu.Lock()
	if a.selectFailed {
		a.selectFailed, a.selected = false, ""
	}
	a.mu.Unlock()
	if a.selected == mailbox {
		return
	}
	tag := a.nextTag()
	fmt.Fprintf(a.bw, "%s SELECT %s\r\n", tag, quote(format.EncodeMUTF7(mailbox)))
	a.selected = mailbox
	a.push(tag, false)
}

// Append sends one APPEND of one message, as BeginAppend, AppendMessage
// and EndAppend do. Its result comes from Result, in order, also when the
// server refused the message's literal.
func (a *Appender) Append(mailbox string, flags []string, date time.Time, binary bool, size int64, body io.Reader) error {
	a.BeginAppend(mailbox)
	if err := a.AppendMessage(flags, date, binary, size, body); err != nil && !errors.Is(err, ErrLiteralRefused) {
		a.open = ""
		return err
	}
	return a.EndAppend()
}

// BeginAppend starts an APPEND to mailbox, to which AppendMessage adds
// messages (more than one only where MultiAppend) and which EndAppend
// finishes. One APPEND is one transaction on the server: all its messages
// land or none, and Dovecot then updates the mailbox's index once for
// them all rather than once per message. Nothing is written before the
// first message.
func (a *Appender) BeginAppend(mailbox string) {
	a.open, a.openMailbox = a.nextTag(), mailbox
	a.messages, a.refused = 0, false
}

// AppendMessage adds a message to the APPEND begun (buffered: Flush sends
// what is buffered); body must yield exactly size bytes. binary sends it
// as a binary literal (RFC 3516), which a message with NUL bytes needs:
// ErrNoBinary, with nothing written, where the server lacks BINARY.
// Without LITERAL+, AppendMessage flushes and waits for the server's
// continuation before the bytes; ErrLiteralRefused if the server refuses
// instead. ErrNoBinary and ErrLiteralRefused leave the Appender usable;
// after any other error the connection is out of step and the Appender
// must be closed.
func (a *Appender) AppendMessage(flags []string, date time.Time, binary bool, size int64, body io.Reader) error {
	switch {
	case a.open == "":
		return errors.New("AppendMessage without BeginAppend")
	case a.refused:
		return ErrLiteralRefused
	case binary && !a.Binary():
		return ErrNoBinary
	case a.messages > 0 && !a.MultiAppend():
		return errors.New("a second message in one APPEND needs MULTIAPPEND")
	}
	if a.messages == 0 {
		fmt.Fprintf(a.bw, "%s APPEND %s", a.open, quote(format.EncodeMUTF7(a.openMailbox)))
	}
	a.messages++
	fmt.Fprintf(a.bw, " (%s) %q ", strings.Join(flags, " "), date.Format("02-Jan-2006 15:04:05 -0700"))
	refused, err := a.literal(a.open, size, binary)
	if err != nil {
		return err
	}
	if refused {
		a.refused = true
		a.push(a.open, true)
		return ErrLiteralRefused
	}
	n, err := io.CopyN(a.bw, body, size)
	if err != nil {
		return fmt.Errorf("APPEND literal: %d of %d bytes: %w", n, size, err)
	}
	return nil
}

// EndAppend finishes the APPEND begun; its result comes from Result. It
// writes nothing when the server refused one of the APPEND's literals,
// which ended the APPEND already.
func (a *Appender) EndAppend() error {
	switch {
	case a.open == "":
		return errors.New("EndAppend without BeginAppend")
	case a.refused:
	case a.messages == 0:
		a.open = ""
		return errors.New("APPEND without a message")
	default:
		if _, err := a.bw.WriteString("\r\n"); err != nil {
			return err
		}
		a.push(a.open, true)
	}
	a.open = ""
	return nil
}

// literal writes the start of a literal of size bytes for command tag:
// non-synchronizing where the server allows (LITERAL+, or LITERAL- up to
// 4096 bytes), else synchronizing, and then it flushes and waits for the
// server's continuation. refused reports that the server answered the
// command instead, whose answer is then kept for Result or answer.
func (a *Appender) literal(tag string, size int64, binary bool) (refused bool, err error) {
	nonSync := a.caps.Has(imap.CapLiteralPlus) || a.caps.Has(imap.CapLiteralMinus) && size <= 4096
	if binary {
		a.bw.WriteByte('~')
	}
	if nonSync {
		fmt.Fprintf(a.bw, "{%d+}\r\n", size)
		return false, nil
	}
	fmt.Fprintf(a.bw, "{%d}\r\n", size)
	if err := a.bw.Flush(); err != nil {
		return false, err
	}
	_, refused, err = a.continuation(tag)
	return refused, err
}

// Flush sends the buffered APPENDs.
func (a *Appender) Flush() error { return a.bw.Flush() }

// push records a command sent, whose answer Result reads.
func (a *Appender) push(tag string, isAppend bool) {
	a.mu.Lock()
	a.pending = append(a.pending, pendingCommand{tag: tag, append: isAppend})
	a.mu.Unlock()
}

// Pending is how many APPENDs await their result.
func (a *Appender) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, p := range a.pending {
		if p.append {
			n++
		}
	}
	return n
}

// Result reads the outcome of the oldest APPEND still pending, which must
// have been flushed: a *CommandError for the server's NO or BAD, another
// error when the connection failed (then nothing more can be read).
func (a *Appender) Result() (AppendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		if len(a.pending) == 0 {
			return AppendResult{}, errors.New("no APPEND pending")
		}
		cmd := a.pending[0]
		line, err := a.take(cmd.tag)
		if line == "" {
			return AppendResult{}, err
		}
		a.pending = a.pending[1:]
		if !cmd.append {
			a.selectFailed = a.selectFailed || err != nil
			continue
		}
		if err != nil {
			return AppendResult{}, err
		}
		return appendUID(line), nil
	}
}

// Close logs out and closes the connection. On a connection in a clean
// state (no APPEND open, no answer awaited, no failure) it waits up to 2 s
// for the server's answer to LOGOUT, so the server sees a goodbye and not
// a dropped connection; otherwise anything still buffered is dropped and
// LOGOUT sent as is.
func (a *Appender) Close() error {
	if a.unwatch != nil {
		a.unwatch()
	}
	a.mu.Lock()
	clean := a.open == "" && len(a.pending) == 0 && a.readErr == nil && a.bw.Buffered() == 0
	a.mu.Unlock()
	if clean {
		done := make(chan struct{})
		go func() {
			a.command("LOGOUT")
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		return a.conn.Close()
	}
	a.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(a.conn, a.nextTag()+" LOGOUT\r\n")
	return a.conn.Close()
}

func (a *Appender) nextTag() string {
	a.tag++
	return "m" + strconv.Itoa(a.tag)
}

// quotable reports whether s can go as a quoted string: 7-bit, without
// NUL, CR and LF (RFC 3501 quoted-specials aside, which quote escapes).
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' || s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
