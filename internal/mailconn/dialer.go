package mailconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Dialer opens logged-in IMAP connections to one endpoint. It asks for the
// password once, on the first Dial, and remembers whether the server offers
// STARTTLS, so that later connections go straight to it. It is safe for
// concurrent use: parallel connections to one account share one Dialer.
type Dialer struct {
	ep        Endpoint
	opts      Options
	tlsConfig *tls.Config // verifies ep.Host; never modified after NewDialer

	// pwLock is a one-slot semaphore rather than a mutex so that a Dial
	// waiting while another asks on the terminal can still be cancelled.
	pwLock       chan struct{}
	password     Secret
	havePassword bool

	mu       sync.Mutex
	startTLS startTLSKnowledge

	// worked is set once a connection was made and logged in: only then
	// is a failed dial worth retrying (see firstFailure).
	worked atomic.Bool
}

// NewDialer checks ep and opts (the CA file is read here, so a wrong path
// fails before any password is asked) and returns a Dialer: Dial for
// imap:// and imaps:// endpoints, DialPOP3 for pop3:// and pop3s://.
func NewDialer(ep Endpoint, opts Options) (*Dialer, error) {
	if !ep.IsIMAP() && !ep.IsPOP3() {
		return nil, fmt.Errorf("%s: not an IMAP or POP3 endpoint", ep)
	}
	cfg, err := opts.TLS.Config(opts.Client.TLSConfig, ep.Host)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	if opts.TLS.InsecureSkipVerify {
		opts.logger().Warn("not verifying the server's TLS certificate (--insecure-skip-verify)", "endpoint", ep.String())
	}
	return &Dialer{
		ep:        ep,
		opts:      opts,
		tlsConfig: cfg,
		pwLock:    make(chan struct{}, 1),
	}, nil
}

// DialIMAP connects to ep and logs in, for a single connection. Use a
// Dialer for several, so that the password is asked only once. As with
// Dial, ctx bounds the connection's whole life.
func DialIMAP(ctx context.Context, ep Endpoint, opts Options) (*imapclient.Client, error) {
	d, err := NewDialer(ep, opts)
	if err != nil {
		return nil, err
	}
	return d.Dial(ctx)
}

// Endpoint returns the endpoint the Dialer connects to.
func (d *Dialer) Endpoint() Endpoint { return d.ep }

// Dial connects, secures the connection (implicit TLS for imaps://,
// STARTTLS for imap:// when offered) and logs in. Errors are *DialError.
// The caller closes the client, preferably after Logout.
//
// ctx bounds the connection's whole life, not only the dial: when it ends
// (Ctrl-C), the connection is closed, so that whatever waits on it returns
// at once. Pass the context of the work the connection is for.
func (d *Dialer) Dial(ctx context.Context) (*imapclient.Client, error) {
	if !d.ep.IsIMAP() {
		return nil, fmt.Errorf("%s: not an IMAP endpoint (want imap:// or imaps://)", d.ep)
	}
	return dial(d, ctx, func(dctx context.Context, pw Secret) (*imapclient.Client, error) {
		return d.dialIMAP(dctx, ctx, pw)
	})
}

// dialIMAP is one Dial; life is Dial's context.
func (d *Dialer) dialIMAP(ctx, life context.Context, pw Secret) (*imapclient.Client, error) {
	conn, err := d.connect(ctx, life)
	if err != nil {
		return nil, err
	}
	if err := d.login(ctx, imapLogin{conn.client}, pw, conn.mute); err != nil {
		conn.client.Close()
		conn.unwatch()
		return nil, err
	}
	if !conn.unwatch() {
		// The deadline struck just as login finished and closed the
		// connection under the client.
		conn.client.Close()
		return nil, d.fail(ctx, OpAuth, ctx.Err())
	}
	d.opts.logger().DebugContext(ctx, "IMAP connection ready", "endpoint", d.ep.String(), "security", conn.security)
	return conn.client, nil
}

// dial runs connect, one dial of any kind, with the credential and within
// DialTimeout, and settles its outcome: a failure is final while no dial
// of d ever worked (firstFailure); a success marks d as worked. The
// credential comes before the connection: a prompt left waiting while a
// connection is open would run into the server's login timeout, and it
// must not count against DialTimeout either.
func dial[C any](d *Dialer, ctx context.Context, connect func(ctx context.Context, pw Secret) (C, error)) (C, error) {
	var none C
	pw, err := d.credential(ctx)
	if err != nil {
		return none, d.fail(ctx, OpPassword, err)
	}
	timeout := d.opts.dialTimeout()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("no progress within %v: %w", timeout, os.ErrDeadlineExceeded))
	defer cancel()
	c, err := connect(ctx, pw)
	if err != nil {
		return none, d.firstFailure(err)
	}
	d.worked.Store(true)
	return c, nil
}

// credential is what this Dial logs in with: a fresh OAuth2 token where
// Options.Token is set, else the password.
func (d *Dialer) credential(ctx context.Context) (Secret, error) {
	if d.opts.Token == nil {
		return d.getPassword(ctx)
	}
	tok, err := d.opts.Token.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("OAuth2 token for %s: %w", d.ep.Account(), err)
	}
	return Secret(tok), nil
}

// getPassword returns the cached password or asks the PasswordSource, once
// for all concurrent Dials.
func (d *Dialer) getPassword(ctx context.Context) (Secret, error) {
	select {
	case d.pwLock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-d.pwLock }()
	if d.havePassword {
		return d.password, nil
	}
	who := d.ep.Account()
	if d.opts.AuthUser != "" {
		who = d.opts.AuthUser + " (admin for " + d.ep.Account() + ")"
	}
	pw, err := d.opts.Password.Get(ctx, who)
	if err != nil {
		return "", err
	}
	// A wrong password stays cached: asking again and retrying could lock
	// the account, and the caller sees the auth error anyway.
	d.password, d.havePassword = pw, true
	return pw, nil
}

// firstFailure marks err, a failed dial, as final when no connection of
// this Dialer ever worked: a refused connection, an unknown host or a
// server that is not what the URL says fails the run at once instead of
// after minutes of redials. Once a connection worked, a failed redial is
// retried as a passing trouble.
//
// A BYE greeting ("too many connections") is the exception: the server is
// there and speaks IMAP, and parallel first dials of a bulk run meet it
// when they find it busy.
func (d *Dialer) firstFailure(err error) error {
	var de *DialError
	var bye *imap.Error
	if errors.As(err, &bye) && bye.Type == imap.StatusResponseTypeBye {
		return err
	}
	if !d.worked.Load() && errors.As(err, &de) {
		de.Final = true
	}
	return err
}

// byeGreeting is the error of a greeting line "* BYE ...", as go-imap
// gives it: a connection error worth a redial.
func byeGreeting(line string) error {
	text, _ := cutPrefixFold(line, "* BYE ")
	return &lostError{&imap.Error{Type: imap.StatusResponseTypeBye, Text: text}}
}

// fail wraps err as a *DialError. When ctx ended, its cause replaces err:
// the caller's cancellation, or the DialTimeout, which IsConnectionError
// treats as a connection failure worth retrying.
func (d *Dialer) fail(ctx context.Context, op Op, err error) error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return &DialError{Endpoint: d.ep.String(), Op: op, Err: err}
}

// watchedConn is a new client whose connection is closed if ctx ends before
// unwatch, because neither imapclient's greeting and STARTTLS nor its
// commands take a context.
type watchedConn struct {
	client   *imapclient.Client
	guard    *guardedConn
	unwatch  func() bool
	mute     *loginMute // nil without a DebugWriter
	security string     // "implicit TLS", "STARTTLS" or "none", for logs
}

// dialTCP opens the TCP connection, with a deadline on each read and
// write (Options.Timeout), and arranges for ctx to close it. The
// greeting is the first answer owed.
func (d *Dialer) dialTCP(ctx context.Context) (timedConn, func() bool, error) {
	raw, err := d.opts.dialContext()(ctx, "tcp", d.ep.Address())
	if err != nil {
		return timedConn{}, nil, d.fail(ctx, OpDial, err)
	}
	conn := timedConn{raw, d.opts.timeout(), new(atomic.Int64)}
	conn.owed.Store(1)
	unwatch := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, unwatch, nil
}

// clientOptions returns the caller's imapclient options for one
// connection, with the TLS configuration and a debug writer that hides the
// login.
func (d *Dialer) clientOptions() (*imapclient.Options, *loginMute) {
	opts := d.opts.Client
	opts.TLSConfig = d.tlsConfig
	var mute *loginMute
	if opts.DebugWriter != nil {
		mute = &loginMute{w: opts.DebugWriter}
		opts.DebugWriter = mute
	}
	return &opts, mute
}

// connect returns a client that has read the greeting; life is Dial's
// context, which closes the connection when it ends.
func (d *Dialer) connect(ctx, life context.Context) (*watchedConn, error) {
	if d.ep.Implicit() {
		return d.connectImplicitTLS(ctx, life)
	}
	return d.connectStartTLS(ctx, life)
}

// newClient hands conn, raw or TLS over raw, to go-imap through a
// guardedConn.
func (d *Dialer) newClient(life context.Context, conn net.Conn, raw timedConn, unwatch func() bool, security string) *watchedConn {
	opts, mute := d.clientOptions()
	g := guardConn(life, conn, raw)
	return &watchedConn{client: imapclient.New(g, opts), guard: g, unwatch: unwatch, mute: mute, security: security}
}

func (d *Dialer) connectImplicitTLS(ctx, life context.Context) (*watchedConn, error) {
	raw, unwatch, err := d.dialTCP(ctx)
	if err != nil {
		return nil, err
	}
	cfg := d.tlsConfig.Clone()
	cfg.NextProtos = []string{"imap"} // ALPN, as imapclient.DialTLS sends
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		unwatch()
		raw.Close()
		return nil, d.fail(ctx, OpTLS, tlsHint(err))
	}
	wc := d.newClient(life, conn, raw, unwatch, "implicit TLS")
	if err := d.greet(ctx, wc); err != nil {
		return nil, err
	}
	return wc, nil
}

// greet waits for the server's greeting; a BYE greeting ("too many
// connections") comes back as *imap.Error.
func (d *Dialer) greet(ctx context.Context, wc *watchedConn) error {
	if err := wc.client.WaitGreeting(); err != nil {
		wc.client.Close()
		wc.unwatch()
		var imapErr *imap.Error
		if !errors.As(err, &imapErr) {
			if hint := greetingHint(wc.guard.guard.firstLine(), false); hint != nil {
				return d.fail(ctx, OpGreeting, hint)
			}
			// imapclient formats the cause with %v; whatever it was,
			// the connection ended before the greeting.
			err = &lostError{err}
		}
		return d.fail(ctx, OpGreeting, err)
	}
	return nil
}
