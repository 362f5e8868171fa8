package testserver

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/format"
)

// StoredMessage is a message as the server holds it, for tests that
// compare a whole account with what was exported or imported.
type StoredMessage struct {
	Folder       string
	UID          imap.UID
	Sum          format.ID // SHA-256 of BODY[]
	Flags        format.Flags
	InternalDate time.Time
}

// Messages reads every message of user's account over IMAP with
// BODY.PEEK[], so reading changes no flag.
func (d *Dovecot) Messages(t testing.TB, user string) []StoredMessage {
	t.Helper()
	c := d.Login(t, user)
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("testserver: LIST for %s: %v", user, err)
	}
	var out []StoredMessage
	section := &imap.FetchItemBodySection{Peek: true}
	for _, l := range list {
		sel, err := c.Select(l.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
			BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			t.Fatalf("testserver: FETCH %s of %s: %v", l.Mailbox, user, err)
		}
		for _, m := range msgs {
			flags := make([]string, len(m.Flags))
			for i, f := range m.Flags {
				flags[i] = string(f)
			}
			out = append(out, StoredMessage{Folder: l.Mailbox, UID: m.UID, Sum: format.Sum(m.FindBodySection(section)),
				Flags: format.NormalizeFlags(flags), InternalDate: m.InternalDate})
		}
	}
	return out
}
