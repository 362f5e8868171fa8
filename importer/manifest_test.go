package importer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mailferry/mailferry/format"
)

func TestManifestRecordsAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m", "dest.jsonl")
	m, err := OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenManifest(path); !errors.Is(err, ErrManifestBusy) {
		t.Errorf("second open of a locked manifest: %v", err)
	}
	e := ManifestEntry{Key: "a", Blob: format.Sum([]byte("a")), Sent: format.Sum([]byte("a")), Size: 1, Folder: "INBOX", UIDValidity: 7, UIDNext: 3,
		Flags: format.Flags{`\Seen`}}
	e2, e3 := e, e
	e2.Key, e3.Key = "b", "c"
	// The same record in a second folder (an import --into T2) is an
	// entry of its own.
	eT2 := e
	eT2.Folder = "T2"
	if err := m.Intents([]ManifestEntry{e, e2, e3, eT2}); err != nil {
		t.Fatal(err)
	}
	m.Done("a", "INBOX", 5, 7)
	m.Abandon("c", "INBOX")
	m.Skipped("s", "INBOX", "12 MB over --max-size 10 MB")
	m.FlagsSet("a", "INBOX", format.Flags{`\Answered`, `\Seen`})
	m.StartRun(Run{Snapshot: format.Sum([]byte("snap")), Account: "alice", Folders: []RunFolder{{Source: "INBOX", Dest: "INBOX"}}})
	m.Close()

	// A kill mid-write leaves a half line: it is ignored and cut.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"intent":{"key":"d","blo`)
	f.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode %v, want 0600", st.Mode().Perm())
	}

	m, err = OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Lookup("a", "INBOX"); !ok || !got.Done || got.UID != 5 || !slices.Equal(got.Flags, format.Flags{`\Answered`, `\Seen`}) {
		t.Errorf("a: %+v %v", got, ok)
	}
	if got, ok := m.Lookup("a", "T2"); !ok || got.Done {
		t.Errorf("a in T2: %+v %v, want its own pending intent", got, ok)
	}
	if got, ok := m.Lookup("b", "INBOX"); !ok || got.Done {
		t.Errorf("b: %+v %v, want a pending intent", got, ok)
	}
	if _, ok := m.Lookup("c", "INBOX"); ok {
		t.Error("abandoned c still there")
	}
	if got, ok := m.Lookup("s", "INBOX"); !ok || got.Skip == "" || got.Done {
		t.Errorf("skipped s: %+v %v", got, ok)
	}
	if _, ok := m.Lookup("d", "INBOX"); ok {
		t.Error("half-written d taken")
	}
	if p := m.Pending(); len(p) != 2 {
		t.Errorf("pending %+v, want b and a in T2", p)
	}
	if r, ok := m.LastRun("alice"); !ok || r.Folders[0].Dest != "INBOX" {
		t.Errorf("last run %+v %v", r, ok)
	}
	// Lines written after the cut parse.
	m.Done("b", "INBOX", 9, 7)
	m.Close()
	m, err = OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Lookup("b", "INBOX"); !got.Done || got.UID != 9 {
		t.Errorf("b after reload: %+v", got)
	}
}

// TestDefaultManifestPath: one manifest per destination identity, never
// shared by two (users whose names map to the same file-name characters
// included), and the same for the same identity.
func TestDefaultManifestPath(t *testing.T) {
	dests := []Destination{
		{Host: "mail.example.org", Port: 143, User: "a_b"},
		{Host: "mail.example.org", Port: 143, User: "a=b"},
		{Host: "mail.example.org", Port: 993, User: "a_b"},
		{Host: "127.0.0.1", Port: 143, User: "a_b"},
		{Host: "localhost", Port: 143, User: "a_b"},
		{Host: "mail.example.org", Port: 143, User: "a/../../b"},
	}
	seen := map[string]Destination{}
	for _, d := range dests {
		p := DefaultManifestPath("/arch", d)
		if other, ok := seen[p]; ok {
			t.Errorf("%+v and %+v share manifest %s", d, other, p)
		}
		seen[p] = d
		if filepath.Dir(p) != "/arch/manifests" {
			t.Errorf("%+v: manifest %s outside /arch/manifests", d, p)
		}
		if again := DefaultManifestPath("/arch", d); again != p {
			t.Errorf("%+v: %s then %s", d, p, again)
		}
	}
}
