package main

import (
	"path/filepath"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestPOP3AndIMAPOfOneUser exports one Dovecot user over IMAP, then over
// POP3, into one archive: the POP3 snapshot (INBOX only) goes to account
// pop3:USER@HOST, and the IMAP account's latest snapshot is still the IMAP
// one with all its folders and messages.
func TestPOP3AndIMAPOfOneUser(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "dave", Password: "dave-pw"}}})
	seedMailbox(t, d, "dave", 1200)
	t.Setenv("MAILFERRY_PASSWORD", "dave-pw")
	dir := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "imap://dave@"+d.IMAPAddr, "--archive", dir, "--tls-ca", d.CAFile)
	runCLI(t, "export", "--from", "pop3://dave@"+d.POP3Addr, "--archive", dir, "--tls-ca", d.CAFile)

	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _, _ := a.Snapshots()
	for _, tc := range []struct {
		account string
		kind    string
		folders int
	}{
		{"dave@127.0.0.1", format.SourceIMAP, 5}, // INBOX, Archive, Archive/2024, Entwürfe, Q&A
		{"pop3:dave@127.0.0.1", format.SourcePOP3, 1},
	} {
		s, err := archive.SelectSnapshot(snaps, tc.account, "")
		if err != nil {
			t.Fatalf("account %s: %v", tc.account, err)
		}
		folders := 0
		a.ReadSnapshot(s.ID, func(rec format.SnapshotRecord) error {
			if rec.Folder != nil {
				folders++
			}
			return nil
		})
		if s.Source.Kind != tc.kind || folders != tc.folders {
			t.Errorf("account %s: latest snapshot from %s with %d folders, want %s with %d", tc.account, s.Source.Kind, folders, tc.kind, tc.folders)
		}
	}
	if want, got := serverSums(t, d, "dave"), archiveSums(t, dir, "dave@127.0.0.1"); len(got) != len(want) {
		t.Errorf("IMAP account's latest snapshot holds %d messages, the server %d", len(got), len(want))
	}
}
