package mailconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/oauth"
)

// DefaultDialTimeout bounds connecting, TLS and login when
// Options.DialTimeout is zero.
const DefaultDialTimeout = 30 * time.Second

// DefaultTimeout is how long a server may stay silent when Options.Timeout
// is zero.
const DefaultTimeout = time.Minute

// TLSOptions are the transport security settings (--tls-ca,
// --insecure-skip-verify, --allow-plaintext). Certificates are verified by
// default.
type TLSOptions struct {
	// CAFile is a PEM file of CA certificates trusted instead of the
	// system's roots, for servers with a private CA.
	CAFile string
	// InsecureSkipVerify accepts any certificate. Traffic is encrypted
	// but anyone in the path can read it.
	InsecureSkipVerify bool
	// AllowPlaintext permits connections without TLS to hosts other than
	// loopback, when the server offers no STARTTLS.
	AllowPlaintext bool
}

// Config returns a client TLS configuration that verifies serverName
// (a host name or IP address) against CAFile or the system roots. base, if
// not nil, is cloned and extended, so callers may add client certificates.
// POP3 and IMAP share it.
func (t TLSOptions) Config(base *tls.Config, serverName string) (*tls.Config, error) {
	cfg := new(tls.Config)
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate found", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.InsecureSkipVerify {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// PlaintextAllowed reports whether a connection to ep may go without TLS:
// always to a loopback host, which never leaves the machine, otherwise only
// with AllowPlaintext.
func (t TLSOptions) PlaintextAllowed(ep Endpoint) bool {
	return t.AllowPlaintext || IsLoopback(ep.Host)
}

// IsLoopback reports whether host is "localhost" or a loopback address
// (127.0.0.0/8, ::1). Names are not resolved: a name that merely resolves
// to loopback could resolve elsewhere tomorrow.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// Options configure how a Dialer connects and logs in.
type Options struct {
	TLS TLSOptions

	// AuthUser, if set, logs in as an administrator on behalf of the
	// endpoint's user: SASL PLAIN with authorization identity = endpoint
	// user, authentication identity = AuthUser and AuthUser's password
	// (Dovecot master users, Cyrus admins, Exchange impersonation).
	AuthUser string

	// Password says where the password of the user who authenticates
	// (AuthUser if set, else the endpoint's user) comes from. It is asked
	// once per Dialer, on the first Dial.
	Password PasswordSource

	// Token, if set, signs in with an OAuth2 access token instead of a
	// password (SASL XOAUTH2 or OAUTHBEARER: Microsoft 365, Google). It is
	// asked at every Dial, so a run outlives one-hour tokens.
	Token oauth.Source
	// AuthMech picks XOAUTH2 or OAUTHBEARER for Token (--auth-mech);
	// empty: OAUTHBEARER where the server offers it, else XOAUTH2.
	AuthMech string

	// DialTimeout bounds connecting, TLS and login of one Dial;
	// DefaultDialTimeout if zero. Asking for the password is not counted.
	DialTimeout time.Duration

	// Timeout is how long the server may stay silent (--timeout): it
	// bounds each read while an answer is owed and each write, on every
	// connection, IMAP and POP3, so that a stalled server fails the
	// connection while a long transfer that keeps moving never does. A
	// go-imap connection nobody uses waits up to 30 minutes (RFC 3501's
	// autologout). DefaultTimeout if zero.
	Timeout time.Duration

	// DialContext, if set, opens the TCP connection instead of a
	// net.Dialer (for proxies, and for tests that watch the wire).
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)

	// Client is passed to imapclient: set DebugWriter,
	// UnilateralDataHandler or WordDecoder here. TLSConfig, if set, is the
	// base that TLS settings extend; Dialer is used when DialContext is
	// nil. A DebugWriter sees no bytes of the login exchange, which carries
	// the password.
	Client imapclient.Options

	// Logger receives connection events; slog.Default() if nil.
	Logger *slog.Logger
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o *Options) dialTimeout() time.Duration {
	if o.DialTimeout <= 0 {
		return DefaultDialTimeout
	}
	return o.DialTimeout
}

func (o *Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *Options) dialContext() func(ctx context.Context, network, address string) (net.Conn, error) {
	if o.DialContext != nil {
		return o.DialContext
	}
	if o.Client.Dialer != nil {
		return o.Client.Dialer.DialContext
	}
	return (&net.Dialer{}).DialContext
}
