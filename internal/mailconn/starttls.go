package mailconn

import (
	"context"
	"errors"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
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
func (d *Dialer) connectStartTLS(ctx context.Context) (*watchedConn, error) {
	known := d.knownStartTLS()
	if known == startTLSOffered {
		return d.dialStartTLS(ctx)
	}
	if known == startTLSAbsent && !d.opts.TLS.PlaintextAllowed(d.ep) {
		return nil, d.fail(ctx, OpSecurity, ErrPlaintextRefused)
	}

	raw, unwatch, err := d.dialTCP(ctx)
	if err != nil {
		return nil, err
	}
	opts, mute := d.clientOptions()
	wc := &watchedConn{client: imapclient.New(raw, opts), unwatch: unwatch, mute: mute, security: "none"}
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
		return d.dialStartTLS(ctx)
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
func (d *Dialer) dialStartTLS(ctx context.Context) (*watchedConn, error) {
	raw, unwatch, err := d.dialTCP(ctx)
	if err != nil {
		return nil, err
	}
	opts, mute := d.clientOptions()
	// NewStartTLS closes raw on failure. Its error is the tagged NO/BAD
	// of STARTTLS, a dropped connection, or the handshake's own error,
	// unwrapped, so certificate failures can be recognised.
	c, err := imapclient.NewStartTLS(raw, opts)
	if err != nil {
		unwatch()
		var imapErr *imap.Error
		if errors.As(err, &imapErr) {
			return nil, d.fail(ctx, OpStartTLS, err)
		}
		return nil, d.fail(ctx, OpTLS, err)
	}
	return &watchedConn{client: c, unwatch: unwatch, mute: mute, security: "STARTTLS"}, nil
}
