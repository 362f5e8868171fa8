package main

import (
	"fmt"

	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/urfave/cli/v2"
)

// connFlags are the options of every command that talks to a server.
func connFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of `FILE` (else $" + mailconn.DefaultPasswordEnv + ", else a prompt on the terminal; never on the command line)"},
		&cli.StringFlag{Name: "auth-user", Usage: "log in as administrator `ADMIN` on behalf of the URL's user (SASL PLAIN with authorization identity: Dovecot master users, Cyrus admins); the password is ADMIN's"},
		&cli.StringFlag{Name: "tls-ca", Usage: "trust the CA certificates in PEM `FILE` instead of the system's"},
		&cli.BoolFlag{Name: "insecure-skip-verify", Usage: "accept any server certificate (encrypted, but anyone in the path can read it)"},
		&cli.BoolFlag{Name: "allow-plaintext", Usage: "allow a connection without TLS to a host other than loopback when the server offers no STARTTLS"},
		&cli.DurationFlag{Name: "timeout", Value: mailconn.DefaultTimeout, Usage: "drop a connection whose server sends nothing for `DURATION` while mailferry waits for it (imapsync --timeout)"},
		&cli.Float64Flag{Name: "max-messages-per-second", Usage: "at most `N` messages a second (imapsync --maxmessagespersecond)"},
		&cli.Int64Flag{Name: "max-bytes-per-second", Usage: "at most `N` bytes a second (imapsync --maxbytespersecond, rclone --bwlimit)"},
	}
}

// dialerFor parses an endpoint URL and builds its Dialer from the flags.
func dialerFor(c *cli.Context, url string) (*mailconn.Dialer, mailconn.Endpoint, error) {
	ep, err := mailconn.ParseEndpoint(url)
	if err != nil {
		return nil, ep, cli.Exit(err.Error(), 2)
	}
	d, err := mailconn.NewDialer(ep, mailconn.Options{
		TLS: mailconn.TLSOptions{
			CAFile:             c.String("tls-ca"),
			InsecureSkipVerify: c.Bool("insecure-skip-verify"),
			AllowPlaintext:     c.Bool("allow-plaintext"),
		},
		AuthUser: c.String("auth-user"),
		Password: mailconn.PasswordSource{File: c.String("password-file"), Prompt: true},
		Timeout:  c.Duration("timeout"),
	})
	if err != nil {
		return nil, ep, fmt.Errorf("%s: %w", ep, err)
	}
	return d, ep, nil
}

// throttleFrom returns the throttle the flags ask for, or nil.
func throttleFrom(c *cli.Context) *mailconn.Throttle {
	m, b := c.Float64("max-messages-per-second"), c.Int64("max-bytes-per-second")
	if m <= 0 && b <= 0 {
		return nil
	}
	return mailconn.NewThrottle(m, b)
}
