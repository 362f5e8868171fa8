package importer

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportRawFolderName imports a folder whose name the source sent
// not valid modified UTF-7 (raw_name, format/SPEC.md): it lands on a real
// server under the same name, which goes modified UTF-7 encoded
// ("Bad&-Jjo!") and so reads back as it was recorded.
func TestImportRawFolderName(t *testing.T) {
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, err := a.Index()
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.NewWriter(idx, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body := "Subject: raw\r\n\r\nraw\r\n"
	id, size, err := w.Put(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.NewSnapshot(format.Snapshot{Account: "alice@src", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://alice@src"},
		Run: "r", Started: time.Now(), Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []format.Folder{{Name: "INBOX", Delimiter: "/", Subscribed: true}, {Name: "Bad&Jjo!", RawName: true, Delimiter: "/", Subscribed: true, UIDValidity: 7}} {
		if err := sw.Folder(f); err != nil {
			t.Fatal(err)
		}
	}
	date := time.Date(2024, 3, 5, 10, 0, 0, 0, time.FixedZone("", 3600))
	if err := sw.Message(format.Message{Folder: "Bad&Jjo!", UID: 1, ID: id, Size: size, Flags: format.Flags{`\Seen`}, InternalDate: date}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	snaps, _, _ := a.Snapshots()
	snap, err := archive.SelectSnapshot(snaps, "alice@src", "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := OpenManifest(t.TempDir() + "/m.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ImportIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
		DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m})
	if err != nil || !rep.Complete() {
		t.Fatalf("import: %v %+v", err, rep)
	}
	got := mailbox(t, dst, "bob", func(s string) string { return s })
	want := []string{"Bad&Jjo! " + id.Short() + " [\\Seen] " + date.UTC().Format(time.RFC3339)}
	if !slices.Equal(got, want) {
		t.Errorf("destination holds %q, want %q", got, want)
	}
}
