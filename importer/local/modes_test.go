package local

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// TestExtractsArePrivate: every file and directory an extract writes is
// its owner's alone (0600 and 0700), whatever the target.
func TestExtractsArePrivate(t *testing.T) {
	a, err := archive.OpenOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	w, err := a.NewWriter(idx, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"}, Started: time.Unix(1, 0), Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"INBOX", "INBOX/Sub/Deeper"} {
		if err := sw.Folder(format.Folder{Name: f, Delimiter: "/", Subscribed: true}); err != nil {
			t.Fatal(err)
		}
		for uid := range 3 {
			id, size, err := w.Put(strings.NewReader("Subject: private\r\n\r\nbody " + f + string(rune('a'+uid)) + "\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			sw.Message(format.Message{Folder: f, UID: uint32(uid + 1), ID: id, Size: size, Flags: format.Flags{`\Seen`, "Work"}, InternalDate: time.Unix(1e9, 0)})
		}
	}
	snap, err := sw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		new  func(root string) (Target, error)
	}{
		{"eml", func(r string) (Target, error) { return NewEML(r) }},
		{"maildir", func(r string) (Target, error) { return NewMaildir(r) }},
		{"mbox", func(r string) (Target, error) { return NewMbox(r) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out", "store")
			tg, err := c.new(root)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Extract(context.Background(), a, snap, tg, Selection{})
			if err != nil || len(rep.Failures) > 0 || rep.Messages != 6 {
				t.Fatalf("extract: %v %+v", err, rep)
			}
			n := 0
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					t.Fatal(err)
				}
				fi, _ := d.Info()
				want := fs.FileMode(0o600)
				if d.IsDir() {
					want = 0o700
				}
				if fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
				}
				n++
				return nil
			})
			if n < 4 {
				t.Errorf("only %d entries written", n)
			}
		})
	}
}
