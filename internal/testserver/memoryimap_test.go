package testserver

import (
	"bytes"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestMemoryIMAP(t *testing.T) {
	m := StartMemoryIMAP(t, alice, bob)
	date := time.Date(2022, 1, 2, 3, 4, 5, 0, time.FixedZone("JST", 9*60*60))
	msg := Message{Body: []byte(crlfMessage), Flags: []imap.Flag{imap.FlagSeen, "$Label2"}, Date: date}

	uids := m.Append(t, alice.Name, "Archive", msg)
	m.CreateFolder(t, bob.Name, "Empty", true)

	c := m.Login(t, alice.Name)
	got := fetchByUID(t, c, "Archive", uids[0])
	if body := messageBody(got); !bytes.Equal(body, msg.Body) {
		t.Errorf("body = %q, want %q", body, msg.Body)
	}
	// imapmemserver lowercases keywords (they are case-insensitive);
	// Dovecot keeps them as given.
	if want := []imap.Flag{imap.FlagSeen, "$label2"}; !sameFlags(withoutRecent(got.Flags), want) {
		t.Errorf("flags = %v, want %v", got.Flags, want)
	}
	if !got.InternalDate.Equal(date) {
		t.Errorf("INTERNALDATE = %v, want %v", got.InternalDate, date)
	}
	if folders := listAll(t, c); folders["INBOX"] == nil || folders["Archive"] == nil || folders["Empty"] != nil {
		t.Errorf("alice's folders = %v, want INBOX and Archive only", keys(folders))
	}
	if folders := listAll(t, m.Login(t, bob.Name)); folders["Empty"] == nil {
		t.Errorf("bob's folders = %v, want Empty among them", keys(folders))
	}

	if _, err := loginIMAP(m.Addr, alice.Name, "wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
}
