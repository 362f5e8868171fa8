package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Client is a POP3 session. Its methods run one command at a time: a call
// made while another runs, or while a reader returned by Retr is still open,
// waits for it. Each method's context bounds that command; cancelling it
// mid-command leaves the connection out of step, so the client is then
// unusable (see IsConnectionError).
type Client struct {
	// mu is held for a command's whole exchange, and by a Retr reader until
	// it reaches EOF or is closed.
	mu sync.Mutex

	raw  *timedConn // the TCP connection, with deadlines
	conn net.Conn   // raw, or TLS over raw
	br   *bufio.Reader
	bw   *bufio.Writer
	host string // from Dial's address; checks the certificate on StartTLS

	greeting  string
	timestamp string // "<...>" from the greeting, for APOP; empty if none

	caps []string // from the last CAPA; nil if not asked since connect or STLS

	broken error       // the connection error that made the client unusable
	closed atomic.Bool // Quit or Close was called
}

// readBufferSize is large enough that a typical message line arrives in one
// piece; longer lines are handled in parts.
const readBufferSize = 32 << 10

// Dial connects to addr ("host:port"), over TLS from the first byte if
// WithTLS is given, and reads the server's greeting. The context bounds the
// connect, the TLS handshake and the greeting; WithTimeout bounds each step.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("pop3: dial %s: %w", addr, err)
	}
	d := net.Dialer{Timeout: cfg.timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pop3: dial %s: %w", addr, err)
	}
	return newClient(ctx, conn, cfg, host, addr)
}

// NewClient starts a session on conn, which the client owns from now on,
// and reads the greeting. With WithTLS, conn is wrapped in TLS first; the
// tls.Config must then name the server (ServerName) since conn's address
// does not.
func NewClient(ctx context.Context, conn net.Conn, opts ...Option) (*Client, error) {
	return newClient(ctx, conn, newConfig(opts), "", conn.RemoteAddr().String())
}

// newClient is NewClient; host is the name to check certificates against,
// peer names the server in errors.
func newClient(ctx context.Context, conn net.Conn, cfg config, host, peer string) (*Client, error) {
	raw := &timedConn{Conn: conn, timeout: cfg.timeout}
	c := &Client{raw: raw, conn: raw, host: host}
	op := "greeting from " + peer
	if err := c.begin(ctx, op); err != nil {
		conn.Close()
		return nil, err
	}
	defer c.end()
	if cfg.tls != nil {
		tc := tls.Client(raw, c.tlsConfig(cfg.tls))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, c.fail(op, fmt.Errorf("TLS handshake: %w", err))
		}
		c.conn = tc
	}
	c.br = bufio.NewReaderSize(c.conn, readBufferSize)
	c.bw = bufio.NewWriter(c.conn)

	if head, _ := c.br.Peek(2); string(head) == "* " {
		// Said here rather than as a malformed answer, which would be
		// taken for a dropped connection and redialled.
		c.close()
		return nil, fmt.Errorf("pop3: %s: %w", op, ErrIMAPGreeting)
	}
	text, err := c.readStatus(op, nil)
	if err != nil {
		c.close()
		return nil, err
	}
	c.greeting = text
	c.timestamp = apopTimestamp(text)
	return c, nil
}

// Greeting returns the text of the server's +OK greeting, which often names
// the server software.
func (c *Client) Greeting() string { return c.greeting }

// Close closes the connection without QUIT, so messages marked by Dele are
// kept. It may be called at any time, also while another goroutine runs a
// command, which then fails.
func (c *Client) Close() error {
	c.closed.Store(true)
	return c.raw.Close()
}

// close is Close for code that holds mu.
func (c *Client) close() {
	c.closed.Store(true)
	c.raw.Close()
}

// begin takes the client for the command op, bound to ctx; end gives it
// back.
func (c *Client) begin(ctx context.Context, op string) error {
	c.mu.Lock()
	switch {
	case c.broken != nil:
		c.mu.Unlock()
		return c.broken
	case c.closed.Load():
		c.mu.Unlock()
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return fmt.Errorf("pop3: %s: %w", op, err)
	}
	c.raw.watch(ctx)
	return nil
}

func (c *Client) end() {
	c.raw.unwatch()
	c.mu.Unlock()
}

// fail records err as the reason the connection is unusable, closes it and
// returns the error for the command op. The caller holds mu.
func (c *Client) fail(op string, err error) error {
	if cause := c.raw.cause(); cause != nil && !errors.Is(err, cause) {
		// The network error of a cancelled command is a timeout; the
		// caller wants to see that it was its own cancellation.
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	if c.closed.Load() && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	ce := &connError{op: op, err: err}
	c.broken = ce
	c.close()
	return ce
}

// tlsConfig fills in the server name from Dial's address, so a
// certificate is checked against the host the user asked for.
func (c *Client) tlsConfig(cfg *tls.Config) *tls.Config {
	if cfg.ServerName != "" || c.host == "" {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.ServerName = c.host
	return cfg
}
