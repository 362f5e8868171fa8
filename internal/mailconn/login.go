package mailconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/mailferry/mailferry/internal/oauth"
)

// capAuthPlain is the capability of SASL PLAIN (RFC 4616).
const capAuthPlain = imap.Cap("AUTH=" + sasl.Plain)

// loginConn is a connection that login can log in: go-imap's client
// (imapLogin) or an Appender.
type loginConn interface {
	// preauthenticated reports a PREAUTH greeting, accepted only where
	// no STARTTLS was wanted (NewStartTLS and DialAppender refuse it).
	preauthenticated() bool
	capabilities() imap.CapSet
	login(user string, pw Secret) error
	authenticate(sasl.Client) error
}

// login authenticates conn as the endpoint's user, the way saslClient
// chooses. mute, if not nil, hides the exchange from the debug output.
func (d *Dialer) login(ctx context.Context, conn loginConn, pw Secret, mute *loginMute) error {
	if conn.preauthenticated() {
		d.opts.logger().DebugContext(ctx, "server sent PREAUTH; not logging in", "endpoint", d.ep.String())
		return nil
	}
	sc, err := saslClient(conn.capabilities(), d.ep.User, d.opts.AuthUser, pw)
	mech := ""
	if d.opts.Token != nil {
		if mech, err = oauth.ChooseMech(conn.capabilities().AuthMechanisms(), d.opts.AuthMech); err == nil {
			sc = oauth.SASLClient(mech, d.ep.User, pw.Reveal())
		}
	}
	if err != nil {
		return d.fail(ctx, OpAuth, err)
	}
	mute.hide()
	if sc != nil {
		err = conn.authenticate(sc)
	} else {
		err = conn.login(d.ep.User, pw)
	}
	mute.show()
	if err == nil {
		return nil
	}
	who := "user " + d.ep.User
	if d.opts.AuthUser != "" {
		who += " (authenticating as admin " + d.opts.AuthUser + ")"
	}
	if mech != "" {
		who = "the OAuth2 token (" + mech + ") of user " + d.ep.User + tokenHint(err)
	}
	var imapErr *imap.Error
	var cmdErr *CommandError
	if errors.As(err, &imapErr) || errors.As(err, &cmdErr) {
		return d.fail(ctx, OpAuth, fmt.Errorf("server rejected %s: %w", who, err))
	}
	return d.fail(ctx, OpAuth, fmt.Errorf("as %s: %w", who, err))
}

// saslClient decides how user logs in where the server offers caps: LOGIN
// normally (a nil client), SASL PLAIN when the server has LOGINDISABLED or
// admin logs in for user. PLAIN then carries authorization identity = the
// user whose mail we want, authentication identity = whose password we
// have (RFC 4616). The error says why neither is possible.
func saslClient(caps imap.CapSet, user, admin string, pw Secret) (sasl.Client, error) {
	if admin == "" && !caps.Has(imap.CapLoginDisabled) {
		return nil, nil
	}
	if !caps.Has(capAuthPlain) {
		if admin != "" {
			return nil, fmt.Errorf("admin login as %s needs SASL PLAIN, which the server does not offer here (mechanisms: %v)", admin, caps.AuthMechanisms())
		}
		return nil, errors.New("server disables LOGIN on this connection (LOGINDISABLED) and offers no SASL PLAIN; it probably wants TLS (imaps:// or STARTTLS)")
	}
	if admin == "" {
		return sasl.NewPlainClient("", user, pw.Reveal()), nil
	}
	return sasl.NewPlainClient(user, admin, pw.Reveal()), nil
}

// imapLogin is go-imap's client as a loginConn.
type imapLogin struct{ c *imapclient.Client }

func (l imapLogin) preauthenticated() bool {
	return l.c.State() != imap.ConnStateNotAuthenticated
}

func (l imapLogin) capabilities() imap.CapSet { return l.c.Caps() }

func (l imapLogin) login(user string, pw Secret) error {
	return l.c.Login(user, pw.Reveal()).Wait()
}

func (l imapLogin) authenticate(sc sasl.Client) error { return l.c.Authenticate(sc) }

// tokenHint says what a refused token usually means.
func tokenHint(err error) string {
	switch msg := strings.ToLower(err.Error()); {
	case strings.Contains(msg, "not connected"):
		// Office 365: "User is authenticated but not connected."
		return " (the token is good but not for this mailbox: it belongs to another user, or the application lacks the mailbox permission: Add-MailboxPermission, IMAP.AccessAsApp)"
	case strings.Contains(msg, "authenticate failed"), strings.Contains(msg, "invalid"):
		return " (expired, revoked or for another service: run mailferry auth check)"
	}
	return ""
}
