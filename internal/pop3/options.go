package pop3

import (
	"crypto/tls"
	"time"
)

// DefaultTimeout is how long the server may stay silent during a command
// unless WithTimeout says otherwise.
const DefaultTimeout = time.Minute

// Option configures Dial and NewClient.
type Option func(*config)

type config struct {
	timeout time.Duration
	tls     *tls.Config
}

// WithTimeout sets how long the server may stay silent while a command runs:
// waiting for an answer, or between two parts of a long one such as a RETR.
// It is no limit on a whole RETR, which takes as long as its size needs.
// Zero means no limit besides the context's.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithTLS makes the connection speak TLS from its first byte (POP3S, port
// 995). Without ServerName in cfg, Dial verifies the certificate against the
// host of its address.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) { c.tls = cfg }
}

func newConfig(opts []Option) config {
	c := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}
