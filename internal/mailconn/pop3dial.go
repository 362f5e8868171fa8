package mailconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/mailferry/mailferry/internal/pop3"
)

// DialPOP3 connects to a pop3:// or pop3s:// endpoint, secures the
// connection (implicit TLS for pop3s://; STLS for pop3:// when CAPA offers
// it, RFC 2595) and logs in: AUTH PLAIN with an authorization identity for
// an admin (AuthUser), else USER/PASS, else APOP when the server offers
// neither USER nor SASL PLAIN. Errors are *DialError.
func (d *Dialer) DialPOP3(ctx context.Context) (*pop3.Client, error) {
	if !d.ep.IsPOP3() {
		return nil, fmt.Errorf("%s: not a POP3 endpoint (want pop3:// or pop3s://)", d.ep)
	}
	return dial(d, ctx, d.dialPOP3)
}

func (d *Dialer) dialPOP3(ctx context.Context, pw Secret) (*pop3.Client, error) {
	opts := []pop3.Option{pop3.WithTimeout(d.opts.timeout())}
	if d.ep.Implicit() {
		opts = append(opts, pop3.WithTLS(d.tlsConfig.Clone()))
	}
	c, err := pop3.Dial(ctx, d.ep.Address(), opts...)
	if err != nil {
		op := OpDial
		var netErr *net.OpError
		switch {
		case errors.Is(err, pop3.ErrIMAPGreeting):
			op = OpGreeting
		case d.ep.Implicit() && !errors.As(err, &netErr):
			op, err = OpTLS, tlsHint(err)
		}
		return nil, d.fail(ctx, op, err)
	}
	caps, err := c.Capa(ctx)
	if err != nil {
		c.Close()
		return nil, d.fail(ctx, OpGreeting, err)
	}
	if !d.ep.Implicit() {
		if hasCap(caps, "STLS") {
			if caps, err = c.StartTLS(ctx, d.tlsConfig.Clone()); err != nil {
				c.Close()
				return nil, d.fail(ctx, OpStartTLS, err)
			}
		} else if !d.opts.TLS.PlaintextAllowed(d.ep) {
			c.Close()
			return nil, d.fail(ctx, OpSecurity, ErrPlaintextRefused)
		}
	}
	if err := d.loginPOP3(ctx, c, caps, pw); err != nil {
		c.Close()
		return nil, d.fail(ctx, OpAuth, err)
	}
	return c, nil
}

func (d *Dialer) loginPOP3(ctx context.Context, c *pop3.Client, caps []string, pw Secret) error {
	if d.opts.Token != nil {
		mech, err := oauth.ChooseMech(capArgs(caps, "SASL"), d.opts.AuthMech)
		if err != nil {
			return err
		}
		_, ir, _ := oauth.SASLClient(mech, d.ep.User, pw.Reveal()).Start()
		if err := c.Auth(ctx, mech, ir, pw.Reveal()); err != nil {
			return fmt.Errorf("OAuth2 token (%s) of user %s: %w%s", mech, d.ep.User, err, tokenHint(err))
		}
		return nil
	}
	if d.opts.AuthUser != "" {
		return c.AuthPlain(ctx, d.ep.User, d.opts.AuthUser, pw.Reveal())
	}
	// A server without CAPA (an empty list) is an RFC 1939 server: USER.
	if len(caps) == 0 || hasCap(caps, "USER") {
		if err := c.User(ctx, d.ep.User); err != nil {
			return err
		}
		return c.Pass(ctx, pw.Reveal())
	}
	if sasl := capArgs(caps, "SASL"); slices.Contains(sasl, "PLAIN") {
		return c.AuthPlain(ctx, "", d.ep.User, pw.Reveal())
	}
	err := c.APOP(ctx, d.ep.User, pw.Reveal())
	if errors.Is(err, pop3.ErrNoAPOP) {
		return fmt.Errorf("the server offers none of USER, SASL PLAIN and APOP: %w", err)
	}
	return err
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if f := strings.Fields(c); len(f) > 0 && strings.EqualFold(f[0], name) {
			return true
		}
	}
	return false
}

func capArgs(caps []string, name string) []string {
	for _, c := range caps {
		if f := strings.Fields(c); len(f) > 0 && strings.EqualFold(f[0], name) {
			for i := range f {
				f[i] = strings.ToUpper(f[i])
			}
			return f[1:]
		}
	}
	return nil
}
