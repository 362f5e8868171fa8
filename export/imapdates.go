package export

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// unparsableError is a response go-imap could not parse: the server's data,
// not the network, so retrying cannot help. It keeps only the text, behind
// a prefix of its own, so that mailconn.IsConnectionError (which takes
// go-imap's text errors starting "in response" for a lost connection, down
// the Unwrap chain) does not retry it.
type unparsableError struct{ msg string }

func (e *unparsableError) Error() string { return "unparsable response: " + e.msg }

// unparsableMarks are in the errors go-imap (v2 beta.8) gives every
// pending command when its reader met a response it cannot parse, after
// which it closes the connection: "in response-data: in date-time:
// parsing time ...", "imapwire: expected date-time, got ...", "utf7:
// invalid UTF-7", "in LIST: invalid UTF-8" (a folder name of 8-bit bytes
// that are not UTF-8). A cut connection gives EOF or a reset instead.
var unparsableMarks = []string{"in date-time", "imapwire: expected", "utf7: invalid", "invalid UTF-8"}

// asUnparsable turns an error about a response go-imap could not parse
// into an *unparsableError and returns others as they are.
func asUnparsable(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, m := range unparsableMarks {
		if strings.Contains(msg, m) {
			return &unparsableError{msg}
		}
	}
	return err
}

// fetchDates asks for the INTERNALDATE of items (listed without) on their
// own. A date go-imap cannot parse ends the connection: the first message
// whose date had not come by then (servers answer in order) goes without
// one, with a warning, and the rest are asked for again on a new
// connection. Each bad date costs one reconnection and spoils only its
// own message, whose date the export then takes from its headers.
func (s *imapSource) fetchDates(ctx context.Context, folder string, items []Item) error {
	pos := make(map[imap.UID]int, len(items))
	for i, it := range items {
		pos[imap.UID(it.UID)] = i
	}
	settled := make([]bool, len(items))
	for next := 0; next < len(items); {
		err := s.coord.Do(ctx, func(c *imapclient.Client) error {
			if s.coord.Selected != folder {
				if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
					return fmt.Errorf("EXAMINE: %w", err)
				}
				s.coord.Selected = folder
			}
			rest := imap.UIDSet{imap.UIDRange{Start: imap.UID(items[next].UID), Stop: 0}}
			cmd := c.Fetch(rest, &imap.FetchOptions{UID: true, InternalDate: true})
			for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
				buf, err := msg.Collect()
				if err != nil {
					cmd.Close()
					return asUnparsable(fmt.Errorf("FETCH INTERNALDATE: %w", err))
				}
				if i, ok := pos[buf.UID]; ok && !buf.InternalDate.IsZero() {
					items[i].InternalDate, settled[i] = buf.InternalDate, true
				}
			}
			return asUnparsable(cmd.Close())
		})
		if err == nil {
			return nil
		}
		if _, ok := err.(*unparsableError); !ok {
			return err
		}
		s.coord.Drop()
		for next < len(items) && settled[next] {
			next++
		}
		if next < len(items) {
			items[next].Warning = fmt.Sprintf("INTERNALDATE cannot be read (%v); the date is taken from the message's headers", err)
			next++
		}
	}
	return nil
}
