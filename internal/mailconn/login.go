package mailconn

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// capAuthPlain is the capability of SASL PLAIN (RFC 4616).
const capAuthPlain = imap.Cap("AUTH=" + sasl.Plain)

// login authenticates as the endpoint's user: LOGIN normally, SASL PLAIN
// when the server has LOGINDISABLED or an admin logs in for the user.
func (d *Dialer) login(ctx context.Context, wc *watchedConn, pw Secret) error {
	c := wc.client
	if c.State() != imap.ConnStateNotAuthenticated {
		// PREAUTH: the server already knows who we are (only accepted on
		// connections without STARTTLS; NewStartTLS refuses it).
		d.opts.logger().DebugContext(ctx, "server sent PREAUTH; not logging in", "endpoint", d.ep.String())
		return nil
	}
	caps := c.Caps()
	who := "user " + d.ep.User
	if d.opts.AuthUser != "" {
		who += " (authenticating as admin " + d.opts.AuthUser + ")"
	}

	var err error
	wc.mute.hide()
	switch {
	case d.opts.AuthUser != "" || caps.Has(imap.CapLoginDisabled):
		if !caps.Has(capAuthPlain) {
			wc.mute.show()
			return d.fail(ctx, OpAuth, d.noPlainReason(caps))
		}
		// Authorization identity = the user whose mail we want,
		// authentication identity = whose password we have (RFC 4616).
		authzid, authcid := "", d.ep.User
		if d.opts.AuthUser != "" {
			authzid, authcid = d.ep.User, d.opts.AuthUser
		}
		err = c.Authenticate(sasl.NewPlainClient(authzid, authcid, pw.Reveal()))
	default:
		err = c.Login(d.ep.User, pw.Reveal()).Wait()
	}
	wc.mute.show()
	if err != nil {
		var imapErr *imap.Error
		if errors.As(err, &imapErr) {
			return d.fail(ctx, OpAuth, fmt.Errorf("server rejected %s: %w", who, err))
		}
		return d.fail(ctx, OpAuth, fmt.Errorf("as %s: %w", who, err))
	}
	return nil
}

// noPlainReason explains why PLAIN was needed but is not offered.
func (d *Dialer) noPlainReason(caps imap.CapSet) error {
	if d.opts.AuthUser != "" {
		return fmt.Errorf("admin login as %s needs SASL PLAIN, which the server does not offer here (mechanisms: %v)", d.opts.AuthUser, caps.AuthMechanisms())
	}
	return errors.New("server disables LOGIN on this connection (LOGINDISABLED) and offers no SASL PLAIN; it probably wants TLS (imaps:// or STARTTLS)")
}
