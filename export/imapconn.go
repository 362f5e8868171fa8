package export

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// conn is a connection that is dialled when first needed and again after
// it drops, with backoff, up to retries times for one piece of work.
type conn struct {
	dial    func(ctx context.Context) (*imapclient.Client, error)
	retries int
	c       *imapclient.Client
	backoff mailconn.Backoff
	// selected is the folder the connection has EXAMINEd, "" for none.
	selected    string
	uidValidity uint32
}

// do runs fn on the connection, redialling and running fn again when the
// connection drops; fn must be safe to repeat. Other errors are returned.
func (c *conn) do(ctx context.Context, fn func(*imapclient.Client) error) error {
	return c.doN(ctx, c.retries, fn)
}

// doN is do with its own number of reconnects.
func (c *conn) doN(ctx context.Context, retries int, fn func(*imapclient.Client) error) error {
	var err error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			if werr := c.backoff.Wait(ctx); werr != nil {
				return werr
			}
		}
		if c.c == nil {
			if c.c, err = c.dial(ctx); err != nil {
				c.c = nil
				if ctx.Err() != nil || !mailconn.IsConnectionError(err) {
					return err
				}
				continue
			}
			c.selected = ""
		}
		if err = fn(c.c); err == nil || !mailconn.IsConnectionError(err) {
			if err == nil {
				c.backoff.Reset()
			}
			return err
		}
		c.drop()
	}
	return fmt.Errorf("gave up after %d reconnects: %w", retries, err)
}

func (c *conn) drop() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
	c.selected = ""
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Logout().Wait()
		c.c.Close()
		c.c = nil
	}
}
