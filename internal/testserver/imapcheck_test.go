package testserver

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// fetchByUID selects folder and fetches one message with everything the
// seeding helpers set.
func fetchByUID(t *testing.T, c *imapclient.Client, folder string, uid imap.UID) *imapclient.FetchMessageBuffer {
	t.Helper()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("select %q: %v", folder, err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID:          true,
		Flags:        true,
		InternalDate: true,
		RFC822Size:   true,
		BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("fetch UID %d in %q: %v", uid, folder, err)
	}
	if len(msgs) != 1 {
		t.Fatalf("fetch UID %d in %q: got %d messages, want 1", uid, folder, len(msgs))
	}
	return msgs[0]
}

// messageBody returns the BODY[] section of a fetched message.
func messageBody(msg *imapclient.FetchMessageBuffer) []byte {
	return msg.FindBodySection(&imap.FetchItemBodySection{Peek: true})
}

// flagRecent is IMAP4rev1's \Recent, which go-imap leaves out because
// IMAP4rev2 dropped it.
const flagRecent imap.Flag = `\Recent`

// withoutRecent drops \Recent, which depends on which session saw a
// message first rather than on what was stored.
func withoutRecent(flags []imap.Flag) []imap.Flag {
	return slices.DeleteFunc(slices.Clone(flags), func(f imap.Flag) bool { return f == flagRecent })
}

// sameFlags compares flag sets regardless of order.
func sameFlags(a, b []imap.Flag) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// listAll returns LIST "" "*" keyed by folder name.
func listAll(t *testing.T, c *imapclient.Client) map[string]*imap.ListData {
	t.Helper()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("LIST: %v", err)
	}
	byName := make(map[string]*imap.ListData, len(list))
	for _, l := range list {
		byName[l.Mailbox] = l
	}
	return byName
}
