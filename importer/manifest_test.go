package importer

import (
	"errors"
	"os"
	"path/filepath"
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
	e := ManifestEntry{Key: "a", Blob: format.Sum([]byte("a")), Sent: format.Sum([]byte("a")), Size: 1, Folder: "INBOX", UIDValidity: 7, UIDNext: 3}
	if err := m.Intent(e); err != nil {
		t.Fatal(err)
	}
	e2 := e
	e2.Key = "b"
	m.Intent(e2)
	m.Done("a", 5, 7)
	e3 := e
	e3.Key = "c"
	m.Intent(e3)
	m.Abandon("c")
	m.Close()

	// A kill mid-write leaves a half line: it is ignored and cut.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"intent":{"key":"d","blo`)
	f.Close()

	m, err = OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, ok := m.Lookup("a"); !ok || !got.Done || got.UID != 5 || got.Folder != "INBOX" {
		t.Errorf("a: %+v %v", got, ok)
	}
	if got, ok := m.Lookup("b"); !ok || got.Done {
		t.Errorf("b: %+v %v, want a pending intent", got, ok)
	}
	if _, ok := m.Lookup("c"); ok {
		t.Error("abandoned c still there")
	}
	if _, ok := m.Lookup("d"); ok {
		t.Error("half-written d taken")
	}
	if p := m.Pending(); len(p) != 1 || p[0].Key != "b" {
		t.Errorf("pending %+v", p)
	}
	// Lines written after the cut parse.
	m.Done("b", 9, 7)
	m.Close()
	m, err = OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Lookup("b"); !got.Done || got.UID != 9 {
		t.Errorf("b after reload: %+v", got)
	}
}
