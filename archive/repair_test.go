package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// repairArchive writes an archive of the given format version: several
// packs and index files, two snapshots, and some messages put under both
// (deduplicated, so later packs list messages whose chunks older packs
// hold). It returns the directory and every message's bytes by id.
func repairArchive(t *testing.T, version int) (string, map[format.ID][]byte) {
	return repairArchiveBulk(t, version, 0)
}

// repairArchiveBulk adds bulk small messages to the first snapshot, in a
// folder of their own, so that its snapshot and index files span several
// zstd blocks: a truncated file keeps some whole blocks to salvage.
func repairArchiveBulk(t *testing.T, version, bulk int) (string, map[format.ID][]byte) {
	t.Helper()
	a, err := openOrCreate(t.TempDir(), version)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 64 << 10, PackSize: 300 << 10})
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[format.ID][]byte{}
	var parent *format.ID
	for s := range 2 {
		sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"},
			Run: "r", Started: time.Unix(int64(1000+s), 0), Complete: true, Parent: parent})
		if err != nil {
			t.Fatal(err)
		}
		folders := []string{"INBOX", "Archive"}
		if s == 0 && bulk > 0 {
			folders = append(folders, "Bulk")
		}
		for _, f := range folders {
			if err := sw.Folder(format.Folder{Name: f, Delimiter: "/"}); err != nil {
				t.Fatal(err)
			}
			n := 25
			if f == "Bulk" {
				n = bulk
			}
			for i := range n {
				// The second snapshot repeats half the first's messages.
				seed := uint64(s*13 + i)
				var m []byte
				if f == "Bulk" {
					m = testMessage(uint64(1000+i), fmt.Sprintf("Subject: bulk %d", i), 200)
				} else {
					m = testMessage(seed, "Subject: "+f, 500+int(seed)*9000)
				}
				id, size, err := w.Put(bytes.NewReader(m))
				if err != nil {
					t.Fatal(err)
				}
				msgs[id] = m
				if err := sw.Message(format.Message{Folder: f, UID: uint32(i + 1), ID: id, Size: size, InternalDate: time.Unix(1e9, 0)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
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
	return a.Dir(), msgs
}

// snapshotRecords lists every record of every snapshot, by snapshot id.
func snapshotRecords(t *testing.T, a *Archive) map[format.ID][]format.SnapshotRecord {
	t.Helper()
	snaps, problems, err := a.Snapshots()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	out := map[format.ID][]format.SnapshotRecord{}
	for _, s := range snaps {
		if err := a.ReadSnapshot(s.ID, func(r format.SnapshotRecord) error {
			out[s.ID] = append(out[s.ID], r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func deleteAll(kind string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		for _, p := range files(t, dir, kind) {
			os.Remove(p)
		}
	}
}

func TestRepairRebuildsIndexFromPacks(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"nothing damaged", func(*testing.T, string) {}},
		{"every index file deleted", deleteAll(dirIndex)},
		{"one index file deleted", func(t *testing.T, dir string) { os.Remove(files(t, dir, dirIndex)[0]) }},
		{"index file truncated", func(t *testing.T, dir string) { truncate(t, files(t, dir, dirIndex)[0]) }},
		{"index file cut to nothing", func(t *testing.T, dir string) { os.Truncate(files(t, dir, dirIndex)[1], 0) }},
		{"byte flipped in an index file", func(t *testing.T, dir string) { flipByte(t, files(t, dir, dirIndex)[0], 0.5) }},
		{"every index file truncated", func(t *testing.T, dir string) {
			for _, p := range files(t, dir, dirIndex) {
				truncate(t, p)
			}
		}},
	}
	orig, msgs := repairArchive(t, format.Version)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, orig)
			c.damage(t, dir)
			a, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := a.Repair(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Lost) > 0 {
				t.Errorf("lost: %v", rep.Lost)
			}
			if c.name == "nothing damaged" && rep.Changed() {
				t.Errorf("repair of an intact archive changed it: %+v", rep)
			}
			vrep, err := a.Verify(context.Background())
			if err != nil || !vrep.OK() {
				t.Fatalf("verify after repair: %v\n%s", err, strings.Join(vrep.Problems, "\n"))
			}
			// Every message of every snapshot reads back byte for byte.
			idx, problems, err := a.Index()
			if err != nil || len(problems) > 0 {
				t.Fatal(err, problems)
			}
			r, _ := a.NewReader(idx)
			defer r.Close()
			n := 0
			for _, recs := range snapshotRecords(t, a) {
				for _, rec := range recs {
					if m := rec.Message; m != nil {
						if got := readAll(t, r, m.ID); format.Sum(got) != format.Sum(msgs[m.ID]) {
							t.Fatalf("message %s differs after repair", m.ID)
						}
						n++
					}
				}
			}
			if n != 100 {
				t.Errorf("%d records read, want 100", n)
			}
			again, err := a.Repair(context.Background())
			if err != nil || again.Changed() {
				t.Errorf("a second repair changed something: %+v %v", again, err)
			}
		})
	}
}

func TestRepairKeepsCompleteRecordsOfTruncatedSnapshot(t *testing.T) {
	orig, _ := repairArchiveBulk(t, format.Version, 3000)
	a0, _ := Open(orig)
	before := snapshotRecords(t, a0)
	snaps, _, _ := a0.Snapshots()
	victim := snaps[0].ID // the bulky one, parent of the other

	cases := []struct {
		name   string
		damage func(t *testing.T, p string)
		minRec int // at least this many records survive
	}{
		{"truncated to two thirds", func(t *testing.T, p string) { truncate(t, p) }, 500},
		{"checksum cut off", func(t *testing.T, p string) { cutTail(t, p, 3) }, 1000},
		{"byte flipped", func(t *testing.T, p string) { flipByte(t, p, 0.5) }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, orig)
			c.damage(t, filepath.Join(dir, dirSnapshots, victim.String()))
			// The index goes too: both are rebuilt in one repair.
			deleteAll(dirIndex)(t, dir)
			a, _ := Open(dir)
			rep, err := a.Repair(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Snapshots) != 1 || rep.Snapshots[0].From != victim {
				t.Fatalf("repaired snapshots %+v", rep.Snapshots)
			}
			rs := rep.Snapshots[0]
			vrep, err := a.Verify(context.Background())
			if err != nil || !vrep.OK() {
				t.Fatalf("verify after repair: %v\n%s", err, strings.Join(vrep.Problems, "\n"))
			}
			after := snapshotRecords(t, a)
			if _, ok := after[victim]; ok {
				t.Fatal("the damaged snapshot is still in place")
			}
			if rs.To.IsZero() {
				if c.minRec > 0 {
					t.Fatal("nothing kept")
				}
				return
			}
			kept := after[rs.To]
			if len(kept) < c.minRec || len(kept) != rs.Folders+rs.Messages || len(kept) == len(before[victim]) && c.minRec > 0 {
				t.Fatalf("kept %d records (report: %d+%d), want at least %d", len(kept), rs.Folders, rs.Messages, c.minRec)
			}
			// The records kept are the original's first ones, unchanged
			// (a flipped byte may spoil a few: they are left out).
			for i, r := range kept {
				if c.minRec == 0 {
					break
				}
				o := before[victim][i]
				if (r.Folder == nil) != (o.Folder == nil) ||
					r.Folder != nil && r.Folder.Name != o.Folder.Name ||
					r.Message != nil && (r.Message.ID != o.Message.ID || r.Message.UID != o.Message.UID || r.Message.Folder != o.Message.Folder) {
					t.Fatalf("record %d differs: %+v vs %+v", i, r, o)
				}
			}
			all, _, _ := a.Snapshots()
			var h SnapshotInfo
			for _, s := range all {
				if s.ID == rs.To {
					h = s
				}
			}
			if h.Complete || h.Repaired == nil || h.Repaired.From != victim || !h.Repaired.Complete || h.Account != "u@h" {
				t.Errorf("repaired header %+v %+v", h.Snapshot, h.Repaired)
			}
			if _, err := os.Stat(filepath.Join(dir, dirDamaged, dirSnapshots, victim.String())); err != nil {
				t.Errorf("damaged file not set aside: %v", err)
			}
		})
	}
}

func cutTail(t *testing.T, p string, n int64) {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()-n); err != nil {
		t.Fatal(err)
	}
}

// TestVersion1ArchiveReadAndRepaired: an archive written the way version 1
// writes (no pack lists, version 1 files) is read, verified and repaired as
// far as it can be, and the repair says what it cannot rebuild.
func TestVersion1ArchiveReadAndRepaired(t *testing.T) {
	orig, msgs := repairArchiveBulk(t, 1, 1500)
	a, err := Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	if a.Config().Version != 1 {
		t.Fatalf("config version %d", a.Config().Version)
	}
	for _, p := range files(t, orig, dirPacks) {
		if bytes.Contains(mustRead(t, p), binary.LittleEndian.AppendUint32(nil, 0x184D2A5B)) {
			t.Fatalf("%s: a version 1 pack with a list", p)
		}
	}
	f, _ := os.Open(files(t, orig, dirIndex)[0])
	dec, err := format.NewIndexDecoder(f)
	if err != nil {
		t.Fatal(err)
	}
	dec.Close()
	f.Close()
	rep, err := a.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Problems)
	}
	idx, _, _ := a.Index()
	r, _ := a.NewReader(idx)
	for id, m := range msgs {
		if !bytes.Equal(readAll(t, r, id), m) {
			t.Fatalf("message %s differs", id)
		}
	}
	r.Close()

	dir := copyDir(t, orig)
	// Its last tenth lost: index files list chunks first, then messages.
	p := files(t, dir, dirIndex)[0]
	cutTail(t, p, int64(len(mustRead(t, p))/10))
	b, _ := Open(dir)
	readable := func() int {
		idx, _, _ := b.Index()
		r, _ := b.NewReader(idx)
		defer r.Close()
		n := 0
		for id := range idx.messages {
			if rc, _, err := r.Open(id); err == nil {
				var buf bytes.Buffer
				if _, err := buf.ReadFrom(rc); err == nil {
					if !bytes.Equal(buf.Bytes(), msgs[id]) {
						t.Fatalf("message %s differs", id)
					}
					n++
				}
			}
		}
		return n
	}
	damaged := readable()
	rrep, err := b.Repair(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rrep.Lost, "\n"), "format version 1") {
		t.Errorf("repair does not say what a version 1 archive lacks: %v", rrep.Lost)
	}
	if rrep.Salvaged == 0 {
		t.Errorf("nothing salvaged from the truncated index file")
	}
	// What was salvaged reads back; the archive's own files stay version 1.
	if _, problems, err := b.Index(); err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if repaired := readable(); repaired <= damaged {
		t.Errorf("%d messages read back after repair, %d before", repaired, damaged)
	} else {
		t.Logf("%d of %d messages read back after repair, %d before", repaired, len(msgs), damaged)
	}
	if !rrep.NewIndex.IsZero() {
		f, _ := os.Open(filepath.Join(dir, dirIndex, rrep.NewIndex.String()))
		defer f.Close()
		if _, err := format.NewIndexDecoder(f); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPacksReadByZstdTool: the pack list is a skippable frame, so the zstd
// command decompresses a pack to its chunks, back to back.
func TestPacksReadByZstdTool(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("no zstd command")
	}
	dir, _ := repairArchive(t, format.Version)
	a, _ := Open(dir)
	idx, _, _ := a.Index()
	for _, p := range files(t, dir, dirPacks) {
		out, err := exec.Command("zstd", "-dc", p).Output()
		if err != nil {
			t.Fatalf("zstd -dc %s: %v", p, err)
		}
		id, _ := format.ParseID(filepath.Base(p))
		l, err := a.openPackList(id)
		if err != nil {
			t.Fatal(err)
		}
		// Where each frame's bytes start in what zstd -d wrote.
		f, _ := os.Open(p)
		st, _ := f.Stat()
		frames, err := readSeekTable(f, st.Size())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		at := map[int64]int64{}
		var total int64
		for _, fr := range frames {
			at[fr.off] = total
			total += fr.dlen
		}
		if int64(len(out)) != total {
			t.Fatalf("%s: zstd -d wrote %d bytes, the frames hold %d", p, len(out), total)
		}
		if len(l.chunks) == 0 && len(l.msgs) == 0 {
			t.Fatalf("%s: empty list", p)
		}
		for _, c := range l.chunks {
			start := at[c.FrameOffset] + c.Offset
			if format.Sum(out[start:start+c.Length]) != c.ID {
				t.Fatalf("%s: chunk %s not where zstd -d put it", p, c.ID)
			}
			if loc, ok := idx.chunk(c.ID); !ok || loc.Pack != id && loc.Pack.IsZero() {
				t.Fatalf("chunk %s listed, not indexed", c.ID)
			}
		}
	}
}
