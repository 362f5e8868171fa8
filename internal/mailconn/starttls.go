package mailconn

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// startTLSKnowledge is what a Dialer has learnt about STARTTLS on its
// server.
type startTLSKnowledge int

const (
	startTLSUnknown startTLSKnowledge = iota
	startTLSOffered
	startTLSAbsent
)

func (d *Dialer) knownStartTLS() startTLSKnowledge {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.startTLS
}

func (d *Dialer) learnStartTLS(k startTLSKnowledge) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.startTLS = k
}

// connectStartTLS connects to an imap:// endpoint. imapclient can only
// start TLS in NewStartTLS, which sends STARTTLS right after the greeting
// without looking at the capabilities, and has no method to upgrade a
// client it already made. So the first connection is a probe: a plain
// client reads the capabilities and, if STARTTLS is among them, is dropped
// for a second connection through NewStartTLS. The Dialer remembers the
// answer, and later connections go straight to NewStartTLS, or stay plain
// (re-checking the capabilities, which costs nothing on a plain
// connection). Concurrent first Dials may each probe; that is harmless.
func (d *Dialer) connectStartTLS(ctx, life context.Context) (*watchedConn, error) {
	known := d.knownStartTLS()
	if known == startTLSOffered {
		return d.dialStartTLS(ctx, life)
	}
	if known == startTLSAbsent && !d.opts.TLS.PlaintextAllowed(d.ep) {
		return nil, d.fail(ctx, OpSecurity, ErrPlaintextRefused)
	}

	raw, unwatch, err := d.dialTCP(ctx)
	if err != nil {
		return nil, err
	}
	wc := d.newClient(life, raw, raw, unwatch, "none")
	if err := d.greet(ctx, wc); err != nil {
		return nil, err
	}
	caps := wc.client.Caps()
	if caps == nil {
		wc.client.Close()
		wc.unwatch()
		return nil, d.fail(ctx, OpGreeting, &lostError{errors.New("server sent no capabilities")})
	}
	if caps.Has(imap.CapStartTLS) {
		d.learnStartTLS(startTLSOffered)
		// Nothing was sent but CAPABILITY, so closing without LOGOUT
		// loses nothing; a LOGOUT would only cost another round trip.
		wc.client.Close()
		wc.unwatch()
		return d.dialStartTLS(ctx, life)
	}
	d.learnStartTLS(startTLSAbsent)
	if err := d.plaintext(ctx); err != nil {
		wc.client.Close()
		wc.unwatch()
		return nil, err
	}
	return wc, nil
}

// plaintext checks that the server, which offers no STARTTLS, may be used
// without TLS, and warns where that crosses a network.
func (d *Dialer) plaintext(ctx context.Context) error {
	if !d.opts.TLS.PlaintextAllowed(d.ep) {
		return d.fail(ctx, OpSecurity, ErrPlaintextRefused)
	}
	if !IsLoopback(d.ep.Host) {
		d.opts.logger().WarnContext(ctx, "server offers no STARTTLS; sending the password unencrypted (--allow-plaintext)", "endpoint", d.ep.String())
	}
	return nil
}

// dialStartTLS connects and upgrades with STARTTLS before anything else.
// It speaks STARTTLS itself rather than through imapclient.NewStartTLS, so
// that go-imap gets the TLS connection inside a guardedConn, which then
// sees plaintext (NewStartTLS would put TLS above it).
func (d *Dialer) dialStartTLS(ctx, life context.Context) (*watchedConn, error) {
	raw, unwatch, err := d.dialTCP(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(op Op, err error) (*watchedConn, error) {
		unwatch()
		raw.Close()
		return nil, d.fail(ctx, op, err)
	}
	br := bufio.NewReaderSize(raw, 4096)
	greeting, err := readBoundedLine(br)
	if err != nil {
		return fail(OpGreeting, &lostError{err})
	}
	switch preauth, err := greetingStatus(greeting); {
	case err != nil:
		return fail(OpGreeting, err)
	case preauth:
		return fail(OpSecurity, errPreauthInClear)
	}
	const tag = "S1"
	if _, err := io.WriteString(raw, tag+" STARTTLS\r\n"); err != nil {
		return fail(OpStartTLS, err)
	}
	for {
		line, err := readBoundedLine(br)
		if err != nil {
			return fail(OpStartTLS, &lostError{err})
		}
		if strings.HasPrefix(line, "*") {
			continue
		}
		if err := status(line, tag); err != nil {
			return fail(OpStartTLS, err)
		}
		break
	}
	if br.Buffered() > 0 {
		// Injected before TLS by someone in the path (CVE-2011-0411).
		return fail(OpStartTLS, errors.New("server sent data after its answer to STARTTLS"))
	}
	tc := tls.Client(raw, d.tlsConfig.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail(OpTLS, err)
	}
	// go-imap wants a greeting first. The server's came before TLS, and
	// what was said in clear is not to be trusted, so go-imap gets one
	// without capabilities and asks for them over TLS.
	conn := greetedConn{Conn: tc, r: io.MultiReader(strings.NewReader("* OK STARTTLS done\r\n"), tc)}
	wc := d.newClient(life, conn, raw, unwatch, "STARTTLS")
	if err := d.greet(ctx, wc); err != nil {
		return nil, err
	}
	return wc, nil
}

// errPreauthInClear refuses PREAUTH on a connection that offers
// STARTTLS: whoever sent it may be keeping the connection in clear (RFC
// 9051 section 7.1.4); imapclient.NewStartTLS refuses it too.
var errPreauthInClear = errors.New("server sent PREAUTH on a connection that offers STARTTLS; refusing to go on without TLS")

// greetingStatus reads a greeting line that mailconn reads itself (an
// Appender's, a STARTTLS dial's): preauth for PREAUTH; an error for BYE
// ("too many connections", worth a redial as go-imap's BYE is) and for
// anything that is no IMAP greeting.
func greetingStatus(greeting string) (preauth bool, err error) {
	switch {
	case hasPrefixFold(greeting, "* OK"):
		return false, nil
	case hasPrefixFold(greeting, "* PREAUTH"):
		return true, nil
	case hasPrefixFold(greeting, "* BYE"):
		return false, byeGreeting(greeting)
	}
	if hint := greetingHint(greeting, false); hint != nil {
		return false, hint
	}
	return false, fmt.Errorf("greeting %q is not an IMAP greeting", greeting)
}

// greetedConn reads r, a greeting in front of the connection's own data.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (c greetedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
