package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/maildir"
	"github.com/mailferry/mailferry/internal/mbox"
)

// runCLI runs mailferry with args and returns what it printed on stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCLIErr(args...)
	if err != nil {
		t.Fatalf("mailferry %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func runCLIErr(args ...string) (string, error) {
	out, errOut, err := runCLIStreams(args...)
	return out + errOut, err
}

// runCLIStreams runs a command line and returns what went to stdout and to
// stderr apart, and the error main would print to stderr.
func runCLIStreams(args ...string) (stdout, stderr string, err error) {
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = run(context.Background(), app, append([]string{"mailferry"}, args...))
	return out.String(), errOut.String(), err
}

// corpus returns the odd messages under testdata/corpus.
func corpus(t *testing.T) [][]byte {
	t.Helper()
	files, err := filepath.Glob("../../testdata/corpus/*.eml")
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus: %v (%d files)", err, len(files))
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// storedMessage is a message as a store holds it, for comparing stores.
type storedMessage struct {
	Folder string
	Sum    format.ID
	Flags  string
	Date   time.Time
}

func (m storedMessage) String() string {
	return fmt.Sprintf("%s %s [%s] %s", m.Folder, m.Sum.Short(), m.Flags, m.Date.UTC().Format(time.RFC3339Nano))
}

func sortMessages(ms []storedMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	slices.Sort(out)
	return out
}

// Folder layout shared by the round trips: nesting, non-ASCII, & and an
// implicit parent.
var roundTripFolders = []format.Folder{
	{Name: "INBOX", Delimiter: "/", Subscribed: true},
	{Name: "Sent", Delimiter: "/", Subscribed: true},
	{Name: "Entwürfe", Delimiter: "/", Subscribed: true},
	{Name: "Q&A", Delimiter: "/"},
	{Name: "Öffentliche Ordner", Delimiter: "/", Subscribed: true},
	{Name: "Archive/2024/Q1", Delimiter: "/", Subscribed: true},
}

var roundTripFlags = [][]string{
	nil,
	{format.FlagSeen},
	{format.FlagSeen, format.FlagAnswered, "$label1"},
	{format.FlagFlagged, "Project-X", "$Forwarded"},
	{format.FlagDraft, format.FlagSeen},
	{format.FlagDeleted, format.FlagSeen, "$Junk", "$label1", "Work"},
}

func roundTripPlan(t *testing.T) []struct {
	folder format.Folder
	msg    []byte
	flags  format.Flags
	date   time.Time
} {
	var plan []struct {
		folder format.Folder
		msg    []byte
		flags  format.Flags
		date   time.Time
	}
	for i, m := range corpus(t) {
		// Every message once, a few twice in another folder: dedup
		// must keep both records.
		for _, fi := range []int{i % len(roundTripFolders), (i + 2) % len(roundTripFolders)}[:1+i%3/2] {
			plan = append(plan, struct {
				folder format.Folder
				msg    []byte
				flags  format.Flags
				date   time.Time
			}{roundTripFolders[fi], m, format.NormalizeFlags(roundTripFlags[i%len(roundTripFlags)]),
				time.Date(2019+i%5, time.Month(1+i%12), 1+i, 8, i, 7, 0, time.UTC)})
		}
	}
	return plan
}

func readMaildir(t *testing.T, root string) []storedMessage {
	t.Helper()
	s, err := maildir.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	folders, err := s.Folders()
	if err != nil {
		t.Fatal(err)
	}
	var out []storedMessage
	for _, f := range folders {
		if f.HasAttribute(`\Noselect`) {
			continue
		}
		err := s.Messages(f.Name, func(m maildir.Message, r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			out = append(out, storedMessage{f.Name, format.Sum(b), strings.Join(m.Flags, " "), m.InternalDate})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestMaildirRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	s, err := maildir.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, f := range roundTripFolders {
		n, err := s.CreateFolder(f)
		if err != nil {
			t.Fatal(err)
		}
		names[f.Name] = n
	}
	plan := roundTripPlan(t)
	for _, p := range plan {
		if _, err := s.Deliver(names[p.folder.Name], p.flags, p.date, bytes.NewReader(p.msg)); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "maildir:"+src, "--archive", arch, "--account", "alice@example.org")
	dst := filepath.Join(t.TempDir(), "dst")
	runCLI(t, "archive", "extract", arch, "--to", "maildir:"+dst)

	want, got := readMaildir(t, src), readMaildir(t, dst)
	if len(want) != len(plan) {
		t.Fatalf("source holds %d messages, planned %d", len(want), len(plan))
	}
	if w, g := sortMessages(want), sortMessages(got); !slices.Equal(w, g) {
		t.Errorf("extracted Maildir differs from the source:\nwant %s\ngot  %s", strings.Join(w, "\n     "), strings.Join(g, "\n     "))
	}
	// Subscriptions and folder names come through too.
	ws, _ := s.Subscriptions()
	d, _ := maildir.Open(dst)
	gs, _ := d.Subscriptions()
	slices.Sort(ws)
	slices.Sort(gs)
	if !slices.Equal(ws, gs) {
		t.Errorf("subscriptions: got %q, want %q", gs, ws)
	}
	checkListAndCat(t, arch, "alice@example.org", want)
	if out := runCLI(t, "archive", "verify", arch); !strings.Contains(out, "archive intact") {
		t.Errorf("verify: %s", out)
	}
}

// checkListAndCat checks that `archive ls --json` lists every message with
// its flags and date, and that `archive cat` gives its exact bytes.
func checkListAndCat(t *testing.T, arch, account string, want []storedMessage) {
	t.Helper()
	out := runCLI(t, "archive", "ls", arch, "--json")
	var got []storedMessage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec lsRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("ls --json line %q: %v", line, err)
		}
		if rec.Account != account || len(rec.Snapshot) != 64 {
			t.Errorf("ls --json: account %q snapshot %q", rec.Account, rec.Snapshot)
		}
		date, err := time.Parse(time.RFC3339, rec.InternalDate)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, storedMessage{rec.Folder, rec.ID, strings.Join(rec.Flags, " "), date})
		body := runCLI(t, "archive", "cat", arch, rec.ID.String())
		if format.Sum([]byte(body)) != rec.ID || int64(len(body)) != rec.Size {
			t.Errorf("cat %s: %d bytes that do not hash to the id", rec.ID.Short(), len(body))
		}
	}
	// ls prints dates to the second; compare at that precision.
	trunc := func(ms []storedMessage) []string {
		c := slices.Clone(ms)
		for i := range c {
			c[i].Date = c[i].Date.Truncate(time.Second)
		}
		return sortMessages(c)
	}
	if w, g := trunc(want), trunc(got); !slices.Equal(w, g) {
		t.Errorf("ls --json differs from the source:\nwant %s\ngot  %s", strings.Join(w, "\n     "), strings.Join(g, "\n     "))
	}
}

func readMboxDir(t *testing.T, root string) []storedMessage {
	t.Helper()
	folders, skipped, err := mbox.Folders(root)
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	var out []storedMessage
	for _, f := range folders {
		if f.Path == "" {
			continue
		}
		fh, err := os.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		r := mbox.NewReader(fh)
		for {
			m, body, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(body)
			out = append(out, storedMessage{f.Folder.Name, format.Sum(b), strings.Join(m.Flags, " "), m.FromLineDate})
		}
		fh.Close()
	}
	return out
}

func TestMboxRoundTrip(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	d, err := mbox.CreateDir(src)
	if err != nil {
		t.Fatal(err)
	}
	writers := map[string]*mbox.FileWriter{}
	for _, p := range roundTripPlan(t) {
		w := writers[p.folder.Name]
		if w == nil {
			if w, err = d.Append(p.folder); err != nil {
				t.Fatal(err)
			}
			writers[p.folder.Name] = w
		}
		if err := w.Write(mbox.Message{FromLineDate: p.date, Flags: p.flags}, bytes.NewReader(p.msg)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range writers {
		w.Close()
	}
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "mbox:"+src, "--archive", arch)
	dst := filepath.Join(t.TempDir(), "dst")
	runCLI(t, "archive", "extract", arch, "--to", "mbox:"+dst)
	want, got := readMboxDir(t, src), readMboxDir(t, dst)
	if len(want) == 0 {
		t.Fatal("source mbox is empty")
	}
	if w, g := sortMessages(want), sortMessages(got); !slices.Equal(w, g) {
		t.Errorf("extracted mbox differs from the source:\nwant %s\ngot  %s", strings.Join(w, "\n     "), strings.Join(g, "\n     "))
	}
	checkListAndCat(t, arch, src, want)
}

// TestExportSampleMaildir exports the sample Maildir in testdata.
func TestExportSampleMaildir(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "demo")
	out := runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch)
	if !strings.Contains(out, "25 messages") {
		t.Errorf("export of testdata/maildir: %s", out)
	}
	info := strings.Join(strings.Fields(runCLI(t, "archive", "info", arch)), " ")
	for _, want := range []string{"accounts 1 ", "messages 25 in the latest snapshots"} {
		if !strings.Contains(info, want) {
			t.Errorf("archive info lacks %q:\n%s", want, info)
		}
	}
	ls := runCLI(t, "archive", "ls", arch, "--json")
	for _, folder := range []string{`"folder":"Entwürfe"`, `"folder":"Q&A"`, `"folder":"INBOX"`} {
		if !strings.Contains(ls, folder) {
			t.Errorf("archive ls lacks %s", folder)
		}
	}
}

// TestExtractOlderSnapshotAsEML exports twice with a change between, then
// extracts the first snapshot by id prefix as .eml files: exactly its
// messages come out, byte for byte, one file per message.
func TestExtractOlderSnapshotAsEML(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	s, err := maildir.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	msgs := corpus(t)
	for _, m := range msgs[:5] {
		if _, err := s.Deliver("INBOX", nil, time.Unix(1e9, 0), bytes.NewReader(m)); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "maildir:"+src, "--archive", arch, "--account", "me")
	if _, err := s.Deliver("INBOX", nil, time.Unix(2e9, 0), bytes.NewReader(msgs[6])); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "export", "--from", "maildir:"+src, "--archive", arch, "--account", "me")

	a, err := archive.Open(arch)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _, _ := a.Snapshots()
	if len(snaps) != 2 {
		t.Fatalf("%d snapshots, want 2", len(snaps))
	}
	out := filepath.Join(t.TempDir(), "eml")
	runCLI(t, "archive", "extract", arch, "--snapshot", snaps[0].ID.String()[:10], "--to", "eml:"+out)
	files, _ := filepath.Glob(filepath.Join(out, "INBOX", "*.eml"))
	if len(files) != 5 {
		t.Fatalf("extracted %d .eml files from the first snapshot, want 5", len(files))
	}
	want := map[format.ID]bool{}
	for _, m := range msgs[:5] {
		want[format.Sum(m)] = true
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !want[format.Sum(b)] {
			t.Errorf("%s: not one of the first snapshot's messages", f)
		}
	}
	// Without --snapshot, the latest has all six.
	out2 := filepath.Join(t.TempDir(), "eml2")
	runCLI(t, "archive", "extract", arch, "--to", "eml:"+out2)
	if files, _ := filepath.Glob(filepath.Join(out2, "INBOX", "*.eml")); len(files) != 6 {
		t.Errorf("latest snapshot: %d files, want 6", len(files))
	}
	// A snapshot id that matches nothing is a clear error.
	if _, err := runCLIErr("archive", "extract", arch, "--snapshot", "ffffffffff", "--to", "eml:"+t.TempDir()); err == nil || !strings.Contains(err.Error(), "no snapshot") {
		t.Errorf("unknown snapshot: %v", err)
	}
}

// TestDemoCommand runs the README's first command.
func TestDemoCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out := runCLI(t, "demo", "--archive", dir)
	for _, want := range []string{"exported", "imported", "verified: the destination serves every message with the SHA-256 of the bytes sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if v := runCLI(t, "archive", "verify", dir); !strings.Contains(v, "archive intact") {
		t.Errorf("archive verify after the demo: %s", v)
	}
}
