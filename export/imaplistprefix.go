package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// maxPrefixDepth bounds how far listByPrefix narrows a failing prefix.
const maxPrefixDepth = 32

// listByPrefix lists the folders when LIST "*" failed on a name go-imap
// (v2 beta.8) cannot decode, which ends the connection: a name that is not
// valid modified UTF-7. It lists by prefix, splitting a failing prefix by
// its next printable ASCII character ("&" goes out as "&-", a literal "&"),
// so that every other folder is found, at the cost of a reconnection per
// failing prefix and up to 95 LISTs under each. Under a prefix that still
// fails, names going on with a non-ASCII character are out of reach: it
// returns those prefixes, leaves (no longer prefix fails: a bad name is
// there) apart from the prefixes of leaves (one may be there too).
func (s *imapSource) listByPrefix(ctx context.Context, prefix string, depth int, list *[]*imap.ListData, extended *bool) (leaves, parents []string, err error) {
	var got []*imap.ListData
	err = s.coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		got, *extended, err = listPattern(c, prefix+"*")
		return asUnparsable(err)
	})
	if err == nil {
		*list = append(*list, got...)
		return nil, nil, nil
	}
	if !errors.As(err, new(*unparsableError)) {
		return nil, nil, err
	}
	s.coord.Drop()
	if depth >= maxPrefixDepth {
		return []string{prefix}, nil, nil
	}
	if prefix != "" {
		// The prefix may itself be a folder, which no longer pattern
		// below matches.
		exact, err := s.listExact(ctx, prefix)
		if err != nil {
			return nil, nil, err
		}
		*list = append(*list, exact...)
	}
	for ch := byte(0x20); ch < 0x7f; ch++ {
		if ch == '*' || ch == '%' {
			continue
		}
		l, p, err := s.listByPrefix(ctx, prefix+string(ch), depth+1, list, extended)
		if err != nil {
			return nil, nil, err
		}
		leaves, parents = append(leaves, l...), append(parents, p...)
	}
	if len(leaves) == 0 {
		return []string{prefix}, parents, nil
	}
	return leaves, append(parents, prefix), nil
}

// listExact lists the one folder named name, if it exists.
func (s *imapSource) listExact(ctx context.Context, name string) ([]*imap.ListData, error) {
	var got []*imap.ListData
	err := s.coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		got, _, err = listPattern(c, name)
		return asUnparsable(err)
	})
	if err != nil {
		return nil, fmt.Errorf("LIST %q: %w", name, err)
	}
	return got, nil
}
