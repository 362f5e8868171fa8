package pop3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MessageSize is one line of LIST: a message number and its size in octets
// as the server will send it (CRLF line ends, before dot-stuffing).
type MessageSize struct {
	Number int
	Size   int64
}

// MessageUID is one line of UIDL: a message number and the server's unique
// id for it, which stays the same across sessions (RFC 1939 section 7).
type MessageUID struct {
	Number int
	UID    string
}

// Stat returns the number of messages in the maildrop and their total size
// in octets.
func (c *Client) Stat(ctx context.Context) (count int, size int64, err error) {
	text, err := c.simple(ctx, "STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(text)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("pop3: STAT: %w: answer %q is not <count> <size>", ErrProtocol, text)
	}
	if count, err = parseNumber(f[0]); err == nil {
		size, err = strconv.ParseInt(f[1], 10, 64)
	}
	if err != nil || size < 0 {
		return 0, 0, fmt.Errorf("pop3: STAT: %w: answer %q is not <count> <size>", ErrProtocol, text)
	}
	return count, size, nil
}

// List returns the number and size of every message not marked deleted.
func (c *Client) List(ctx context.Context) ([]MessageSize, error) {
	lines, err := c.multi(ctx, "LIST")
	if err != nil {
		return nil, err
	}
	list := make([]MessageSize, 0, len(lines))
	for _, l := range lines {
		// RFC 1939 lets servers add more after the size; it is ignored.
		f := strings.Fields(l)
		if len(f) < 2 {
			return nil, fmt.Errorf("pop3: LIST: %w: line %q is not <number> <size>", ErrProtocol, l)
		}
		n, err := parseNumber(f[0])
		if err != nil {
			return nil, fmt.Errorf("pop3: LIST: %w: line %q: %v", ErrProtocol, l, err)
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("pop3: LIST: %w: line %q has no size", ErrProtocol, l)
		}
		list = append(list, MessageSize{Number: n, Size: size})
	}
	return list, nil
}

// UIDL returns the unique id of every message not marked deleted. Any -ERR
// answer matches ErrNoUIDL (and *Error): UIDL is optional in RFC 1939.
func (c *Client) UIDL(ctx context.Context) ([]MessageUID, error) {
	lines, err := c.multi(ctx, "UIDL")
	if err != nil {
		var refused *Error
		if errors.As(err, &refused) {
			return nil, fmt.Errorf("%w: %w", err, ErrNoUIDL)
		}
		return nil, err
	}
	uids := make([]MessageUID, 0, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			return nil, fmt.Errorf("pop3: UIDL: %w: line %q is not <number> <id>", ErrProtocol, l)
		}
		n, err := parseNumber(f[0])
		if err != nil {
			return nil, fmt.Errorf("pop3: UIDL: %w: line %q: %v", ErrProtocol, l, err)
		}
		uids = append(uids, MessageUID{Number: n, UID: f[1]})
	}
	return uids, nil
}

// parseNumber parses a message number or count: decimal, not negative.
func parseNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a message number", s)
	}
	return n, nil
}

// checkNumber refuses message numbers RFC 1939 does not have, before
// anything is sent.
func checkNumber(n int) error {
	if n < 1 {
		return fmt.Errorf("pop3: message number %d: numbers start at 1", n)
	}
	return nil
}
