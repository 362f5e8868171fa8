package mailconn

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// DialAppender connects and logs in like Dial, on a connection of its own
// for an Appender. Options.DialTimeout bounds the dial, Options.Timeout
// each read and write of the Appender, and like Dial's connections it is
// closed when ctx ends.
func (d *Dialer) DialAppender(ctx context.Context) (*Appender, error) {
	if !d.ep.IsIMAP() {
		return nil, fmt.Errorf("%s: not an IMAP endpoint", d.ep)
	}
	return dial(d, ctx, func(dctx context.Context, pw Secret) (*Appender, error) {
		raw, unwatch, err := d.dialTCP(dctx)
		if err != nil {
			return nil, err
		}
		a, err := d.setUpAppender(dctx, raw, pw)
		if !unwatch() && err == nil {
			err = d.fail(dctx, OpAuth, dctx.Err())
		}
		if err != nil {
			raw.Close()
			return nil, err
		}
		a.unwatch = context.AfterFunc(ctx, func() { raw.Close() })
		return a, nil
	})
}

func (d *Dialer) setUpAppender(ctx context.Context, raw net.Conn, pw Secret) (*Appender, error) {
	var conn net.Conn = raw
	if d.ep.Implicit() {
		tc := tls.Client(raw, d.tlsConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, d.fail(ctx, OpTLS, tlsHint(err))
		}
		conn = tc
	}
	a := newAppender(conn, d.opts.timeout())
	// Read directly: nobody else can be reading yet.
	greeting, err := a.readLine()
	if err != nil {
		return nil, d.fail(ctx, OpGreeting, &lostError{err})
	}
	if a.preauth, err = greetingStatus(greeting); err != nil {
		return nil, d.fail(ctx, OpGreeting, err)
	}
	if err := a.capability(); err != nil {
		return nil, d.fail(ctx, OpGreeting, err)
	}
	if !d.ep.Implicit() {
		if err := d.startTLSAppender(ctx, a); err != nil {
			return nil, err
		}
	}
	if err := d.login(ctx, a, pw, nil); err != nil {
		return nil, err
	}
	if !a.preauth {
		// Capabilities may change once logged in.
		if err := a.capability(); err != nil {
			return nil, d.fail(ctx, OpAuth, err)
		}
	}
	return a, nil
}

// startTLSAppender secures an imap:// connection with STARTTLS where the
// server offers it; otherwise plaintext must be allowed. Like NewStartTLS
// for Dial, it refuses PREAUTH on a connection that offers STARTTLS:
// whoever sent it may be keeping the connection in clear.
func (d *Dialer) startTLSAppender(ctx context.Context, a *Appender) error {
	if !a.caps.Has(imap.CapStartTLS) {
		return d.plaintext(ctx)
	}
	if a.preauth {
		return d.fail(ctx, OpSecurity, errPreauthInClear)
	}
	if err := a.command("STARTTLS"); err != nil {
		return d.fail(ctx, OpStartTLS, err)
	}
	if a.br.Buffered() > 0 {
		// Injected before TLS by someone in the path (CVE-2011-0411).
		return d.fail(ctx, OpStartTLS, errors.New("server sent data after its answer to STARTTLS"))
	}
	tc := tls.Client(a.conn, d.tlsConfig.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		return d.fail(ctx, OpTLS, err)
	}
	a.attach(tc)
	if err := a.capability(); err != nil {
		return d.fail(ctx, OpGreeting, err)
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	_, ok := cutPrefixFold(s, prefix)
	return ok
}

// command sends cmd and waits for its answer.
func (a *Appender) command(cmd string) error {
	tag := a.nextTag()
	fmt.Fprintf(a.bw, "%s %s\r\n", tag, cmd)
	return a.finish(tag)
}

// finish sends what is buffered and waits for tag's answer.
func (a *Appender) finish(tag string) error {
	if err := a.bw.Flush(); err != nil {
		return err
	}
	return a.answer(tag)
}

func (a *Appender) capability() error {
	if err := a.command("CAPABILITY"); err != nil {
		return err
	}
	a.mu.Lock()
	line := a.capLine
	a.mu.Unlock()
	a.caps = imap.CapSet{}
	for _, c := range strings.Fields(line) {
		a.caps[imap.Cap(strings.ToUpper(c))] = struct{}{}
	}
	return nil
}

// The Appender is a loginConn, for Dialer.login.

func (a *Appender) preauthenticated() bool    { return a.preauth }
func (a *Appender) capabilities() imap.CapSet { return a.caps }

func (a *Appender) login(user string, pw Secret) error {
	tag := a.nextTag()
	fmt.Fprintf(a.bw, "%s LOGIN ", tag)
	if err := a.astring(tag, user); err != nil {
		return err
	}
	a.bw.WriteByte(' ')
	if err := a.astring(tag, pw.Reveal()); err != nil {
		return err
	}
	a.bw.WriteString("\r\n")
	return a.finish(tag)
}

// astring writes s for command tag: quoted, or as a literal where a
// quoted string cannot carry it (8-bit, CR, LF).
func (a *Appender) astring(tag, s string) error {
	if quotable(s) {
		_, err := a.bw.WriteString(quote(s))
		return err
	}
	refused, err := a.literal(tag, int64(len(s)), false)
	if err != nil {
		return err
	}
	if refused {
		if err := a.answer(tag); err != nil {
			return err
		}
		return fmt.Errorf("server answered %s before its literal was sent", tag)
	}
	_, err = a.bw.WriteString(s)
	return err
}

// authenticate drives AUTHENTICATE with sc: the initial response on the
// command line where the server has SASL-IR (RFC 4959), else after its
// first continuation.
func (a *Appender) authenticate(sc sasl.Client) error {
	mech, ir, err := sc.Start()
	if err != nil {
		return err
	}
	tag := a.nextTag()
	fmt.Fprintf(a.bw, "%s AUTHENTICATE %s", tag, mech)
	if ir != nil && a.caps.Has(imap.CapSASLIR) {
		fmt.Fprintf(a.bw, " %s", encodeSASL(ir))
		ir = nil
	}
	a.bw.WriteString("\r\n")
	for {
		if err := a.bw.Flush(); err != nil {
			return err
		}
		text, answered, err := a.continuation(tag)
		if err != nil {
			return err
		}
		if answered {
			return a.answer(tag)
		}
		resp := ir
		if text != "" || ir == nil {
			challenge, err := base64.StdEncoding.DecodeString(text)
			if err == nil {
				resp, err = sc.Next(challenge)
			}
			if err != nil {
				// "*" cancels the exchange (RFC 3501 6.2.2).
				a.bw.WriteString("*\r\n")
				a.finish(tag)
				return fmt.Errorf("AUTHENTICATE %s: %w", mech, err)
			}
		}
		ir = nil
		fmt.Fprintf(a.bw, "%s\r\n", encodeSASL(resp))
	}
}

// encodeSASL encodes a SASL response; "=" is the empty one (RFC 4959).
func encodeSASL(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}
