package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/importer/transform"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportWithTransforms imports through the Exchange profile into a real
// server: read receipts disarmed, the 20,000-character line re-encoded so
// no line passes 9,900, keywords dropped, \Flagged set after the APPEND,
// and the 5 MB message skipped by a lowered --max-size; a second run
// appends nothing and verify agrees.
func TestImportWithTransforms(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	var msgs []testserver.Message
	for _, f := range []string{"11-read-receipt.eml", "06-long-line.eml", "07-big-attachment.eml", "01-plain-crlf.eml"} {
		b, err := os.ReadFile(filepath.Join("../testdata/corpus", f))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, testserver.Message{Body: b, Flags: []imap.Flag{imap.FlagFlagged, "$label1"}, Date: time.Unix(1.6e9, 0)})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	prof, err := transform.ProfileByName("exchange")
	if err != nil {
		t.Fatal(err)
	}
	tr := prof.Transforms()
	tr.MaxSize = 4 << 20
	manifest := filepath.Join(t.TempDir(), "m.jsonl")
	opts := func(m *Manifest) IMAPOptions {
		return IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
			Snapshot: snap, Manifest: m, Transforms: tr}
	}
	for run := range 2 {
		m, err := OpenManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ImportIMAP(context.Background(), a, opts(m))
		if err != nil || !rep.Complete() {
			t.Fatalf("run %d: %v %+v", run, err, rep)
		}
		want := 3
		if run == 1 {
			want = 0
		}
		if rep.Appended != want || len(rep.Skipped) != 1 {
			t.Errorf("run %d: appended %d, skipped %v", run, rep.Appended, rep.Skipped)
		}
		if run == 0 {
			// verify needs no transform options: the manifest knows
			// what was sent, and that one message was skipped on purpose.
			v, err := VerifyIMAP(context.Background(), a, VerifyOptions{Dial: opts(m).Dial, Manifest: m})
			if err != nil {
				t.Fatal(err)
			}
			if f := v.Folders[0]; !v.OK() || f.Verified != 3 || len(f.Skipped) != 1 || !strings.Contains(f.Skipped[0].Reason, "--max-size") {
				t.Errorf("verify: %+v", v.Folders)
			}
		}
		m.Close()
	}
	c := dst.Login(t, "bob")
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(got) != 3 {
		t.Fatalf("%d messages, %v", len(got), err)
	}
	for _, m := range got {
		body := m.FindBodySection(&imap.FetchItemBodySection{})
		for _, line := range bytes.Split(body, []byte("\n")) {
			if len(line) > 9900 {
				t.Errorf("a line of %d bytes reached the destination", len(line))
			}
		}
		if bytes.Contains(body, []byte("\nDisposition-Notification-To:")) {
			t.Error("read receipt not disarmed")
		}
		flags := strings.ToLower(strings.Trim(strings.Join(func() []string {
			var s []string
			for _, f := range m.Flags {
				s = append(s, string(f))
			}
			return s
		}(), " "), " "))
		if !strings.Contains(flags, `\flagged`) || strings.Contains(flags, "$label1") {
			t.Errorf("flags %q: want \\Flagged (set after APPEND) and no keyword", flags)
		}
	}
}
