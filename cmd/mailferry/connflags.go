package main

import (
	"fmt"

	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/urfave/cli/v2"
)

// connFlags are the options of every command that talks to a server.
func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of `FILE` (else $" + mailconn.DefaultPasswordEnv + ", else a prompt on the terminal; never on the command line)"},
		&cli.StringFlag{Name: "auth-user", Usage: "log in as administrator `ADMIN` on behalf of the URL's user (SASL PLAIN with authorization identity: Dovecot master users, Cyrus admins); the password is ADMIN's"},
		&cli.StringFlag{Name: "oauth2-token-file", Usage: "sign in with the OAuth2 access token in `FILE` (first line, or JSON access_token), read again at every connection (SASL XOAUTH2 or OAUTHBEARER)"},
		&cli.StringFlag{Name: "oauth2-token-command", Usage: "sign in with the OAuth2 access token that `COMMAND` (run by sh) prints, run again at every connection"},
		&cli.StringFlag{Name: "oauth2-cache", Usage: "sign in with the tokens of `FILE`, written by mailferry auth login and refreshed before they expire"},
		&cli.StringFlag{Name: "auth-mech", Usage: "`MECH` for an OAuth2 token: XOAUTH2 (Microsoft) or OAUTHBEARER (default: OAUTHBEARER where the server offers it)"},
		&cli.StringFlag{Name: "tls-ca", Usage: "trust the CA certificates in PEM `FILE` instead of the system's"},
		&cli.BoolFlag{Name: "insecure-skip-verify", Usage: "accept any server certificate (encrypted, but anyone in the path can read it)"},
		&cli.BoolFlag{Name: "allow-plaintext", Usage: "allow a connection without TLS to a host other than loopback when the server offers no STARTTLS"},
		&cli.DurationFlag{Name: "timeout", Value: mailconn.DefaultTimeout, Usage: "drop a connection whose server sends nothing for `DURATION` while mailferry waits for it (imapsync --timeout)"},
		&cli.GenericFlag{Name: "max-messages-per-second", Aliases: []string{"maxmessagespersecond"}, Value: new(messageRate), DefaultText: "0",
			Usage: "at most `N` messages a second (4 or 4/s; imapsync --maxmessagespersecond); 0: no limit"},
		&cli.GenericFlag{Name: "max-bytes-per-second", Aliases: []string{"maxbytespersecond"}, Value: new(byteRate), DefaultText: "0",
			Usage: "at most `BYTES` a second (1M, 1M/s, 500KiB/s; imapsync --maxbytespersecond, rclone --bwlimit); 0: no limit"},
	}
}

// dialerFor parses an endpoint URL and builds its Dialer from the flags.
func dialerFor(c *cli.Context, url string) (*mailconn.Dialer, mailconn.Endpoint, error) {
	opts, err := connOptions(c)
	if err != nil {
		return nil, mailconn.Endpoint{}, err
	}
	return newDialer(url, opts)
}

// connOptions are the connection settings the flags give.
func connOptions(c *cli.Context) (mailconn.Options, error) {
	token, err := tokenFrom(c)
	if err != nil {
		return mailconn.Options{}, err
	}
	return mailconn.Options{
		Token:    token,
		AuthMech: c.String("auth-mech"),
		TLS: mailconn.TLSOptions{
			CAFile:             c.String("tls-ca"),
			InsecureSkipVerify: c.Bool("insecure-skip-verify"),
			AllowPlaintext:     c.Bool("allow-plaintext"),
		},
		AuthUser: c.String("auth-user"),
		Password: mailconn.PasswordSource{File: c.String("password-file"), Prompt: true},
		Timeout:  c.Duration("timeout"),
	}, nil
}

func newDialer(url string, opts mailconn.Options) (*mailconn.Dialer, mailconn.Endpoint, error) {
	ep, err := mailconn.ParseEndpoint(url)
	if err != nil {
		return nil, ep, cli.Exit(err.Error(), exitStatusUsage)
	}
	d, err := mailconn.NewDialer(ep, opts)
	if err != nil {
		return nil, ep, fmt.Errorf("%s: %w", ep, err)
	}
	return d, ep, nil
}

// throttleFrom returns the throttle the flags ask for, or nil.
func throttleFrom(c *cli.Context) *mailconn.Throttle {
	m, b := rateOf(c, "max-messages-per-second"), int64(rateOf(c, "max-bytes-per-second"))
	if m <= 0 && b <= 0 {
		return nil
	}
	return mailconn.NewThrottle(m, b)
}

// tokenFrom is the OAuth2 token source the flags name, or nil for a
// password.
func tokenFrom(c *cli.Context) (oauth.Source, error) {
	var srcs []oauth.Source
	if f := c.String("oauth2-token-file"); f != "" {
		srcs = append(srcs, oauth.FileSource{Path: f})
	}
	if cmd := c.String("oauth2-token-command"); cmd != "" {
		srcs = append(srcs, oauth.CommandSource{Command: cmd})
	}
	if f := c.String("oauth2-cache"); f != "" {
		srcs = append(srcs, &oauth.CachedSource{Path: f})
	}
	switch {
	case len(srcs) > 1:
		return nil, cli.Exit("give one of --oauth2-token-file, --oauth2-token-command and --oauth2-cache", exitStatusUsage)
	case len(srcs) == 1 && (c.String("password-file") != "" || c.String("auth-user") != ""):
		return nil, cli.Exit("an OAuth2 token signs in alone: drop --password-file and --auth-user", exitStatusUsage)
	case len(srcs) == 0 && c.String("auth-mech") != "":
		return nil, cli.Exit("--auth-mech picks the mechanism of an OAuth2 token: give one with --oauth2-token-file, --oauth2-token-command or --oauth2-cache", exitStatusUsage)
	case len(srcs) == 0:
		return nil, nil
	}
	return srcs[0], nil
}
