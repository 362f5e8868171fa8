package pop3

import (
	"context"
	"fmt"
	"strings"
)

// send writes one command line. shown is the line as errors may quote it.
func (c *Client) send(line, shown string) error {
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
	if err := c.bw.Flush(); err != nil {
		return c.fail(shown, fmt.Errorf("send: %w", err))
	}
	return nil
}

// checkArg refuses an argument that would end the command line early and
// smuggle in a second command.
func checkArg(what, arg string) error {
	if strings.ContainsAny(arg, "\r\n\x00") {
		return fmt.Errorf("pop3: %s contains CR, LF or NUL", what)
	}
	return nil
}

// simple runs a command answered by one status line and returns the text
// after +OK.
func (c *Client) simple(ctx context.Context, line string) (string, error) {
	if err := c.begin(ctx, line); err != nil {
		return "", err
	}
	defer c.end()
	if err := c.send(line, line); err != nil {
		return "", err
	}
	return c.readStatus(line, nil)
}

// multi runs a command answered by a status line and, after +OK, lines
// ending in ".".
func (c *Client) multi(ctx context.Context, line string) ([]string, error) {
	if err := c.begin(ctx, line); err != nil {
		return nil, err
	}
	defer c.end()
	if err := c.send(line, line); err != nil {
		return nil, err
	}
	if _, err := c.readStatus(line, nil); err != nil {
		return nil, err
	}
	return c.readLines(line)
}
