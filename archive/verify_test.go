package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// buildArchive writes a few messages and two snapshots, the second naming
// the first as its parent, and returns the archive's directory.
func buildArchive(t *testing.T) string {
	t.Helper()
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var parent *format.ID
	for s := range 2 {
		sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceMaildir, Endpoint: "/m"},
			Run: "r", Started: time.Unix(int64(1000+s), 0), Complete: true, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.Folder(format.Folder{Name: "INBOX"}); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			msg := testMessage(uint64(i), "Subject: m", 2000+i*40000)
			id, size, err := w.Put(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.Message(format.Message{Folder: "INBOX", UID: uint32(i + 1), ID: id, Size: size, InternalDate: time.Unix(1e9, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		sid, err := sw.Commit()
		if err != nil {
			t.Fatal(err)
		}
		parent = &sid
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return a.Dir()
}

// copyDir copies an archive, private as archives are.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	os.Chmod(dst, dirMode)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), dirMode)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fileMode)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// files returns the archive's files of a kind, largest first.
func files(t *testing.T, dir, kind string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, kind), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatalf("no %s files", kind)
	}
	size := func(p string) int64 { fi, _ := os.Stat(p); return fi.Size() }
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if size(out[j]) > size(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func flipByte(t *testing.T, p string, at float64) {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[int(float64(len(b)-1)*at)] ^= 0x40
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, p string) {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()*2/3); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsDamage(t *testing.T) {
	orig := buildArchive(t)
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string) string // returns the file verify must name
	}{
		{"flipped byte in a pack's frame", func(t *testing.T, dir string) string {
			p := files(t, dir, dirPacks)[0]
			flipByte(t, p, 0.3)
			return filepath.Base(p)
		}},
		{"flipped byte in a pack's seek table", func(t *testing.T, dir string) string {
			p := files(t, dir, dirPacks)[0]
			flipByte(t, p, 0.9999)
			return filepath.Base(p)
		}},
		{"truncated pack", func(t *testing.T, dir string) string {
			p := files(t, dir, dirPacks)[0]
			truncate(t, p)
			return filepath.Base(p)
		}},
		{"deleted pack", func(t *testing.T, dir string) string {
			p := files(t, dir, dirPacks)[0]
			os.Remove(p)
			return filepath.Base(p)
		}},
		{"flipped byte in an index", func(t *testing.T, dir string) string {
			p := files(t, dir, dirIndex)[0]
			flipByte(t, p, 0.5)
			return filepath.Base(p)
		}},
		{"truncated index", func(t *testing.T, dir string) string {
			p := files(t, dir, dirIndex)[0]
			truncate(t, p)
			return filepath.Base(p)
		}},
		{"deleted index", func(t *testing.T, dir string) string {
			p := files(t, dir, dirIndex)[0]
			os.Remove(p)
			return "not in any index"
		}},
		{"flipped byte in a snapshot", func(t *testing.T, dir string) string {
			p := files(t, dir, dirSnapshots)[0]
			flipByte(t, p, 0.5)
			return filepath.Base(p)
		}},
		{"truncated snapshot", func(t *testing.T, dir string) string {
			p := files(t, dir, dirSnapshots)[0]
			truncate(t, p)
			return filepath.Base(p)
		}},
		{"deleted parent snapshot", func(t *testing.T, dir string) string {
			a, _ := Open(dir)
			snaps, _, _ := a.Snapshots()
			os.Remove(filepath.Join(dir, dirSnapshots, snaps[0].ID.String()))
			return snaps[0].ID.String()
		}},
		{"stray file in packs", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, dirPacks, "notes.txt"), []byte("x"), 0o644)
			return "notes.txt"
		}},
	}
	a, _ := Open(orig)
	rep, err := a.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("intact archive: %v %v", err, rep.Problems)
	}
	if rep.Records != 40 || rep.Snapshots != 2 {
		t.Fatalf("intact archive: %d records in %d snapshots, want 40 in 2", rep.Records, rep.Snapshots)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, orig)
			want := c.damage(t, dir)
			a, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := a.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("verify found nothing")
			}
			all := strings.Join(rep.Problems, "\n")
			if !strings.Contains(all, want) {
				t.Errorf("problems do not name %q:\n%s", want, all)
			}
		})
	}
}

func TestReaderRefusesDamagedBytes(t *testing.T) {
	dir := copyDir(t, buildArchive(t))
	for _, p := range files(t, dir, dirPacks) {
		flipByte(t, p, 0.4)
	}
	a, _ := Open(dir)
	idx, _, _ := a.Index()
	r, _ := a.NewReader(idx)
	defer r.Close()
	failed := 0
	for id := range idx.messages {
		rc, _, err := r.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			failed++
		} else if format.Sum(buf.Bytes()) != id {
			t.Fatalf("message %s read back with wrong bytes and no error", id)
		}
	}
	if failed == 0 {
		t.Fatal("no message read failed after every pack was damaged")
	}
}
