package pop3

import (
	"context"
	"strconv"
)

// Noop does nothing but keep the session alive and check the connection.
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.simple(ctx, "NOOP")
	return err
}

// Rset unmarks every message marked by Dele in this session.
func (c *Client) Rset(ctx context.Context) error {
	_, err := c.simple(ctx, "RSET")
	return err
}

// Dele marks message n for deletion; the server removes it only when Quit
// succeeds, and Rset, Close or a dropped connection keep it. mailferry
// exports and must never lose mail, so it calls Dele only when the user
// explicitly asked to delete messages from the server; nothing else in the
// program may.
func (c *Client) Dele(ctx context.Context, n int) error {
	if err := checkNumber(n); err != nil {
		return err
	}
	_, err := c.simple(ctx, "DELE "+strconv.Itoa(n))
	return err
}

// Quit ends the session: the server removes messages marked by Dele (its
// -ERR means it could not remove them all) and the connection is closed
// either way.
func (c *Client) Quit(ctx context.Context) error {
	if err := c.begin(ctx, "QUIT"); err != nil {
		c.Close()
		return err
	}
	defer c.end()
	defer c.close()
	if err := c.send("QUIT", "QUIT"); err != nil {
		return err
	}
	_, err := c.readStatus("QUIT", nil)
	return err
}
