package pop3

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// Capa asks the server for its capabilities (RFC 2449) and returns one line
// per capability, such as "UIDL", "STLS" or "SASL PLAIN LOGIN". A server
// without CAPA answers -ERR; that gives an empty list and no error. The list
// may change after STLS and after login.
func (c *Client) Capa(ctx context.Context) ([]string, error) {
	if err := c.begin(ctx, "CAPA"); err != nil {
		return nil, err
	}
	defer c.end()
	return c.capa()
}

// capa is Capa for code that holds the client.
func (c *Client) capa() ([]string, error) {
	if err := c.send("CAPA", "CAPA"); err != nil {
		return nil, err
	}
	if _, err := c.readStatus("CAPA", nil); err != nil {
		var perr *Error
		if errors.As(err, &perr) {
			c.caps = []string{}
			return []string{}, nil
		}
		return nil, err
	}
	lines, err := c.readLines("CAPA")
	if err != nil {
		return nil, err
	}
	caps := []string{}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			caps = append(caps, l)
		}
	}
	c.caps = caps
	return slices.Clone(caps), nil
}

// hasCap reports whether the last CAPA listed the capability name (the
// first word of a line, compared without regard to case).
func (c *Client) hasCap(name string) bool {
	for _, l := range c.caps {
		word, _, _ := strings.Cut(l, " ")
		if strings.EqualFold(word, name) {
			return true
		}
	}
	return false
}
