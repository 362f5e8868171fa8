package archive

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// checkPrivate fails for every file or directory under root that its
// owner's group or others may read.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n++
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d entries under %s", n, root)
	}
}

func TestArchiveFilesArePrivate(t *testing.T) {
	// A directory the archive creates itself, with a parent it creates too.
	dir := filepath.Join(t.TempDir(), "new", "archive")
	a, err := OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, complete := range []bool{false, true} {
		sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"},
			Started: time.Unix(1, 0), Complete: complete})
		if err != nil {
			t.Fatal(err)
		}
		sw.Folder(format.Folder{Name: "INBOX"})
		for i := range 30 {
			id, size, err := w.Put(bytes.NewReader(testMessage(uint64(i), "Subject: p", 1000+i*5000)))
			if err != nil {
				t.Fatal(err)
			}
			sw.Message(format.Message{Folder: "INBOX", UID: uint32(i + 1), ID: id, Size: size, InternalDate: time.Unix(1, 0)})
		}
		if _, err := sw.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// A spool and a temporary file still open while the walk runs.
	sw, _ := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"}, Started: time.Unix(1, 0)})
	defer sw.Abort()
	tf, _ := a.newTempFile()
	defer tf.abort()
	checkPrivate(t, filepath.Join(dir, ".."))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// An archive older versions left open to others: verify says so.
	rep, err := a.Verify(context.Background())
	if err != nil || strings.Contains(strings.Join(rep.Notes, "\n"), "other users") {
		t.Fatalf("private archive: %v %v", err, rep.Notes)
	}
	os.Chmod(filepath.Join(dir, dirIndex), 0o755)
	rep, _ = a.Verify(context.Background())
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "1 files or directories of the archive are open to other users") {
		t.Errorf("verify notes: %v", rep.Notes)
	}
}

// TestLongNamesNeverMakeUnreadableSnapshots: a name no reader accepts fails
// that record with an error naming the folder, and the snapshot being
// written, and the next one, stay readable.
func TestLongNamesNeverMakeUnreadableSnapshots(t *testing.T) {
	cases := []struct {
		name       string
		folderLen  int
		folderFail bool // the folder record is refused
		msgFail    bool // else its message record is
	}{
		{"17 MiB folder name", 17 << 20, true, false},
		{"folder record fits, its message records do not", format.MaxRecordLine - 100, false, true},
		{"1 MiB folder name", 1 << 20, false, false},
	}
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msg := testMessage(1, "Subject: long", 100)
	id, size, err := w.Put(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			long := strings.Repeat("L", c.folderLen)
			sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"},
				Started: time.Now(), Complete: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.Folder(format.Folder{Name: "INBOX"}); err != nil {
				t.Fatal(err)
			}
			ferr := sw.Folder(format.Folder{Name: long})
			if (ferr != nil) != c.folderFail {
				t.Fatalf("folder record: %v", ferr)
			}
			merr := sw.Message(format.Message{Folder: long, UID: 1, ID: id, Size: size, InternalDate: time.Unix(1, 0)})
			if merr == nil && (c.folderFail || c.msgFail) {
				t.Fatal("message record of the long folder written")
			}
			for _, err := range []error{ferr, merr} {
				if err == nil || !c.folderFail && !c.msgFail {
					continue
				}
				if c.folderFail && !errors.Is(err, format.ErrRecordTooLong) && err == ferr {
					t.Errorf("folder error %v does not say the record is too long", err)
				}
				if !strings.Contains(err.Error(), `"LLLLLLLL`) || len(err.Error()) > 1000 {
					t.Errorf("error does not name the folder in a few words: %.300s", err)
				}
			}
			if err := sw.Message(format.Message{Folder: "INBOX", UID: 2, ID: id, Size: size, InternalDate: time.Unix(1, 0)}); err != nil {
				t.Fatal(err)
			}
			sid, err := sw.Commit()
			if err != nil {
				t.Fatal(err)
			}
			var folders, msgs int
			if err := a.ReadSnapshot(sid, func(r format.SnapshotRecord) error {
				if r.Folder != nil {
					folders++
				} else {
					msgs++
				}
				return nil
			}); err != nil {
				t.Fatalf("snapshot written is unreadable: %v", err)
			}
			wantF, wantM := 2, 2
			if c.folderFail {
				wantF, wantM = 1, 1
			} else if c.msgFail {
				wantM = 1
			}
			if folders != wantF || msgs != wantM {
				t.Errorf("snapshot holds %d folders and %d messages, want %d and %d", folders, msgs, wantF, wantM)
			}
		})
	}
	// Every snapshot file in the archive reads.
	snaps, problems, err := a.Snapshots()
	if err != nil || len(problems) > 0 || len(snaps) != len(cases) {
		t.Fatalf("%d snapshots, problems %v, %v", len(snaps), problems, err)
	}
}

// writeRawIndex stores an index file of the given JSON lines as a writer
// that ignored the format's limits would.
func writeRawIndex(t *testing.T, dir string, lines ...string) format.ID {
	t.Helper()
	var raw bytes.Buffer
	for _, l := range lines {
		raw.WriteString(l + "\n")
	}
	enc, _ := zstd.NewWriter(nil)
	b := enc.EncodeAll(raw.Bytes(), nil)
	id := format.Sum(b)
	if err := os.WriteFile(filepath.Join(dir, dirIndex, id.String()), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCraftedIndexCostsLittle(t *testing.T) {
	a, idx := newTestArchive(t)
	w, _ := a.NewWriter(idx, WriterOptions{})
	chunk := testMessage(7, "Subject: c", 20000)
	cid, _, err := w.Put(bytes.NewReader(chunk))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	loc, _ := idx.chunk(idx.messages[cid].chunks[0])
	header := loc.ID.String()
	const n = 240000
	var list strings.Builder
	for i := range n {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(`"` + header + `"`)
	}
	crafted := format.Sum([]byte("crafted"))
	cases := []struct {
		name    string
		line    string
		loads   bool  // the index file is accepted
		openErr error // what opening the message gives
	}{
		{"chunks that do not add up to the size", `{"message":{"id":"` + crafted.String() + `","size":` + itoa(1000*loc.Length+1) + `,"chunks":[` + list.String()[:1000*67-1] + `]}}`, true, ErrCorrupt},
		{"240,000 chunks", `{"message":{"id":"` + crafted.String() + `","size":` + itoa(int64(n)*loc.Length) + `,"chunks":[` + list.String() + `]}}`, false, nil},
		{"size past the limit", `{"message":{"id":"` + crafted.String() + `","size":1099511627776,"chunks":["` + header + `"]}}`, false, nil},
		{"more chunks than bytes", `{"message":{"id":"` + crafted.String() + `","size":2,"chunks":["` + header + `","` + header + `","` + header + `"]}}`, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, a.Dir())
			bad := writeRawIndex(t, dir, `{"index":{"version":1}}`, c.line, `{"end":{"records":2}}`)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			b, _ := Open(dir)
			idx, problems, err := b.Index()
			if err != nil {
				t.Fatal(err)
			}
			r, _ := b.NewReader(idx)
			defer r.Close()
			_, _, rerr := r.Open(crafted)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			want := c.openErr
			if !c.loads {
				want = ErrNotFound
				if len(problems) != 1 || problems[0].File != bad {
					t.Fatalf("problems %v, want the crafted index named", problems)
				}
				t.Log(problems[0].Err)
			} else if len(problems) > 0 {
				t.Fatalf("problems %v", problems)
			}
			if !errors.Is(rerr, want) {
				t.Errorf("crafted message opened: %v, want %v", rerr, want)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 150<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
			t.Logf("%v, %d MB allocated: %v", elapsed, (after.TotalAlloc-before.TotalAlloc)>>20, rerr)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestReadOnlyCopyOpens(t *testing.T) {
	dir := copyDir(t, buildArchive(t))
	if err := os.RemoveAll(filepath.Join(dir, dirTmp)); err != nil {
		t.Fatal(err)
	}
	listing := func() []string {
		var out []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			fi, _ := d.Info()
			out = append(out, p+" "+fi.Mode().String())
			return nil
		})
		return out
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			defer os.Chmod(p, 0o500) // after its entries
			t.Cleanup(func() { os.Chmod(p, 0o700) })
			return nil
		}
		return os.Chmod(p, 0o400)
	})
	before := listing()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, problems, err := a.Index()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	r, err := a.NewReader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for id := range idx.messages {
		if got := readAll(t, r, id); format.Sum(got) != id {
			t.Fatalf("message %s reads back wrong", id)
		}
		n++
	}
	if n != 20 {
		t.Errorf("%d messages read, want 20", n)
	}
	rep, err := a.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Problems)
	}
	// Root writes anywhere whatever the modes say: that reading wrote
	// nothing is what shows a read-only copy will do.
	if after := listing(); !slices.Equal(before, after) {
		t.Errorf("reading changed the archive:\n%v\n%v", before, after)
	}
}

func TestVerifyNamesUnreferencedMessages(t *testing.T) {
	cases := []struct {
		name         string
		change       func(t *testing.T, a *Archive) []format.ID // returns the messages no snapshot names
		wantSnapshot bool
	}{
		{"intact", func(*testing.T, *Archive) []format.ID { return nil }, true},
		{"messages stored after the last snapshot", func(t *testing.T, a *Archive) []format.ID {
			idx, _, _ := a.Index()
			w, _ := a.NewWriter(idx, WriterOptions{})
			var ids []format.ID
			for i := range 3 {
				id, _, err := w.Put(bytes.NewReader(testMessage(uint64(900+i), "Subject: late", 500)))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return ids
		}, true},
		{"every snapshot deleted", func(t *testing.T, a *Archive) []format.ID {
			idx, _, _ := a.Index()
			for _, p := range files(t, a.Dir(), dirSnapshots) {
				os.Remove(p)
			}
			var ids []format.ID
			for id := range idx.messages {
				ids = append(ids, id)
			}
			return ids
		}, false},
	}
	orig := buildArchive(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _ := Open(copyDir(t, orig))
			want := c.change(t, a)
			rep, err := a.Verify(context.Background())
			if err != nil || !rep.OK() {
				t.Fatal(err, rep.Problems)
			}
			if rep.HasSnapshots() != c.wantSnapshot {
				t.Errorf("HasSnapshots %v, want %v", rep.HasSnapshots(), c.wantSnapshot)
			}
			key := func(a, b format.ID) int { return bytes.Compare(a[:], b[:]) }
			slices.SortFunc(want, key)
			got := slices.Clone(rep.Unreferenced)
			slices.SortFunc(got, key)
			if !slices.Equal(got, want) {
				t.Errorf("unreferenced %d messages, want %d", len(got), len(want))
			}
			if len(want) > 0 && c.wantSnapshot && !strings.Contains(strings.Join(rep.Notes, "\n"), "named by no snapshot") {
				t.Errorf("notes do not say so: %v", rep.Notes)
			}
		})
	}
}
