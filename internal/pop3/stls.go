package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
)

// StartTLS upgrades the connection with STLS (RFC 2595) and, because
// capabilities announced before TLS cannot be trusted, asks for CAPA again
// and returns the new list. The certificate is checked as cfg says; without
// cfg.ServerName, against the host given to Dial. A failed handshake leaves
// the client unusable.
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) ([]string, error) {
	if cfg == nil {
		return nil, errors.New("pop3: StartTLS needs a tls.Config")
	}
	if err := c.begin(ctx, "STLS"); err != nil {
		return nil, err
	}
	defer c.end()
	if _, ok := c.conn.(*tls.Conn); ok {
		return nil, errors.New("pop3: STLS: connection already uses TLS")
	}
	if err := c.send("STLS", "STLS"); err != nil {
		return nil, err
	}
	if _, err := c.readStatus("STLS", nil); err != nil {
		return nil, err
	}
	// Bytes after the +OK arrived in the clear but would be read as if
	// they came over TLS: a man in the middle could inject answers there
	// (the STARTTLS command injection of CVE-2011-0411 and kin).
	if c.br.Buffered() > 0 {
		return nil, c.fail("STLS", fmt.Errorf("%w: %d bytes after +OK before the TLS handshake", ErrProtocol, c.br.Buffered()))
	}
	tc := tls.Client(c.raw, c.tlsConfig(cfg))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, c.fail("STLS", fmt.Errorf("TLS handshake: %w", err))
	}
	c.conn = tc
	c.br.Reset(tc)
	c.bw.Reset(tc)
	c.caps = nil
	return c.capa()
}
