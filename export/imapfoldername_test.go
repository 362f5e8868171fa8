package export

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// TestIMAPInvalidFolderName serves folder names that are not valid
// modified UTF-7, which go-imap cannot decode (it fails the whole LIST and
// ends the connection): every other folder is still exported, each bad one
// is reported as a failure under its prefix, and nothing is retried as a
// lost connection.
func TestIMAPInvalidFolderName(t *testing.T) {
	msgs := []fakeIMAPMessage{{uid: 1, date: `"05-Mar-2024 10:00:00 +0100"`, body: "Subject: a\r\n\r\na\r\n"}}
	for _, tc := range []struct {
		name     string
		folders  []string
		want     []string // folders in the snapshot
		failures []string // their Folder fields
		// prefixes of those, where more bad names may hide, each warned of
		parents int
	}{
		{"one bad beside its prefix", []string{"Bad", "Bad&Jjo!", "Sent", "Zeta"}, []string{"INBOX", "Bad", "Sent", "Zeta"}, []string{"Bad…"}, 3},
		{"two bad", []string{"&Jjo!", "Q&-A", "Q&AAA"}, []string{"INBOX", "Q&A"}, []string{"Q…"}, 1},
		{"bad at the top", []string{"&Jjo!", "Sent"}, []string{"INBOX", "Sent"}, []string{"…"}, 0},
		{"none bad", []string{"Entw&APw-rfe"}, []string{"INBOX", "Entwürfe"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeIMAPServer(t, msgs, tc.folders...)
			a, _ := archive.OpenOrCreate(t.TempDir())
			start := time.Now()
			rep, err := Run(context.Background(), a, srv.source(t), Options{Account: "u@fake"})
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("export took %v: bad names were retried", took)
			}
			var failed []string
			for _, f := range rep.Failures {
				failed = append(failed, f.Folder)
			}
			parents := slices.DeleteFunc(slices.Clone(rep.Warnings), func(w string) bool { return !strings.Contains(w, "could not be listed") })
			if !slices.Equal(failed, tc.failures) || len(parents) != tc.parents || rep.Messages != 1 {
				t.Errorf("failures %q (want %q), warnings %q, %d messages", failed, tc.failures, rep.Warnings, rep.Messages)
			}
			var got []string
			a.ReadSnapshot(rep.Snapshot, func(rec format.SnapshotRecord) error {
				if rec.Folder != nil {
					got = append(got, rec.Folder.Name)
				}
				return nil
			})
			if !slices.Equal(got, tc.want) {
				t.Errorf("snapshot folders %q, want %q", got, tc.want)
			}
			t.Logf("%d connections", srv.connections())
		})
	}
}
