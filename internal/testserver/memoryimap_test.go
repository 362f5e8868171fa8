package testserver

import (
	"bytes"
	"os"
	"path/filepath"
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

// TestMemoryIMAPServesWhatItAnnounces appends every corpus message in the
// CRLF form IMAP clients send and checks that BODY[] is the appended bytes
// and RFC822.SIZE its length. imapmemserver writes the header section anew
// for BODY[], so a header without its closing blank line comes back
// completed; memimap stores that form, and RFC822.SIZE counts it.
func TestMemoryIMAPServesWhatItAnnounces(t *testing.T) {
	completed := map[string]string{ // file: what BODY[] adds to the header
		"10-headers-only.eml":          "\r\n",
		"13-empty-body-no-newline.eml": "\r\n\r\n",
	}
	files, err := filepath.Glob("../../testdata/corpus/*.eml")
	if err != nil || len(files) < 18 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	m := StartMemoryIMAP(t, alice)
	c := m.Login(t, alice.Name)
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
			uids := m.Append(t, alice.Name, "Corpus", Message{Body: b})
			got := fetchByUID(t, c, "Corpus", uids[0])
			body := messageBody(got)
			if want := append(b, completed[name]...); !bytes.Equal(body, want) {
				t.Errorf("BODY[] is %d bytes, want the %d appended + %q", len(body), len(b), completed[name])
			}
			if got.RFC822Size != int64(len(body)) {
				t.Errorf("RFC822.SIZE %d, BODY[] %d bytes", got.RFC822Size, len(body))
			}
		})
	}
}
