package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// testArchive stores messages under one snapshot of account acct, folder
// folder, and returns the archive's directory and the messages' bytes by id.
func testArchive(t *testing.T, acct, folder string, n int) (string, map[format.ID][]byte) {
	t.Helper()
	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	w, err := a.NewWriter(idx, archive.WriterOptions{FrameSize: 64 << 10, PackSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.NewSnapshot(format.Snapshot{Account: acct, Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://x"}, Started: time.Unix(1e9, 0), Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Folder(format.Folder{Name: folder}); err != nil {
		t.Fatal(err)
	}
	msgs := map[format.ID][]byte{}
	for i := range n {
		body := strings.Repeat(string(rune('a'+i%26))+" line of text\r\n", 100+i*700)
		m := []byte("Subject: m" + string(rune('A'+i%26)) + "\r\nX-N: " + time.Unix(int64(i), 0).String() + "\r\n\r\n" + body)
		id, size, err := w.Put(strings.NewReader(string(m)))
		if err != nil {
			t.Fatal(err)
		}
		msgs[id] = m
		if err := sw.Message(format.Message{Folder: folder, UID: uint32(i + 1), ID: id, Size: size, InternalDate: time.Unix(1e9, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, msgs
}

func TestArchiveVerifyWithoutSnapshot(t *testing.T) {
	dir, _ := testArchive(t, "u@h", "INBOX", 5)
	out, err := runCLIErr("archive", "verify", dir)
	if exitCodeOf(err) != 0 || !strings.Contains(out, "archive intact") {
		t.Fatalf("intact archive: %v\n%s", err, out)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*"))
	for _, s := range snaps {
		os.Remove(s)
	}
	out, err = runCLIErr("archive", "verify", dir)
	if exitCodeOf(err) != 1 || strings.Contains(out, "intact\n") || !strings.Contains(out, "no snapshot") {
		t.Fatalf("archive without snapshot: exit %d\n%s", exitCodeOf(err), out)
	}
}

func TestArchiveCommandsEscapeNames(t *testing.T) {
	acct, folder := "evil\x1b[2J@host", "Inbox\n\rfake line\x07"
	dir, _ := testArchive(t, acct, folder, 2)
	for _, args := range [][]string{
		{"archive", "info", dir},
		{"archive", "ls", dir},
	} {
		out := runCLI(t, args...)
		if strings.ContainsAny(out, "\x1b\r\x07") || strings.Contains(out, "\nfake line") {
			t.Errorf("%s prints a name raw:\n%q", args[1], out)
		}
		if !strings.Contains(out, `\x1b[2J`) && !strings.Contains(out, `fake line\a`) {
			t.Errorf("%s prints no escaped name:\n%s", args[1], out)
		}
	}
	// The error that lists accounts to choose from quotes them too.
	second, _ := testArchive(t, "other\x1b]0;title\x07@host", "INBOX", 1)
	snaps, _ := filepath.Glob(filepath.Join(second, "snapshots", "*"))
	for _, p := range snaps {
		if err := os.Rename(p, filepath.Join(dir, "snapshots", filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCLIErr("archive", "ls", dir)
	if err == nil || strings.ContainsAny(out+err.Error(), "\x1b\x07") || !strings.Contains(err.Error(), `"other\x1b]0;title\a@host"`) {
		t.Errorf("ls of two accounts: %v\n%q", err, out)
	}
}

// TestArchiveRepairCommand: index files deleted or truncated, then
// archive repair; verify passes and every message reads back with its
// SHA-256, through archive cat.
func TestArchiveRepairCommand(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, index []string)
	}{
		{"index files deleted", func(t *testing.T, index []string) {
			for _, p := range index {
				os.Remove(p)
			}
		}},
		{"index files truncated", func(t *testing.T, index []string) {
			for _, p := range index {
				fi, _ := os.Stat(p)
				os.Truncate(p, fi.Size()/2)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, msgs := testArchive(t, "u@h", "INBOX", 40)
			index, _ := filepath.Glob(filepath.Join(dir, "index", "*"))
			if len(index) < 2 {
				t.Fatalf("%d index files", len(index))
			}
			c.damage(t, index)
			if out, err := runCLIErr("archive", "verify", dir); exitCodeOf(err) != 1 {
				t.Fatalf("verify of the damaged archive: exit %d\n%s", exitCodeOf(err), out)
			}
			out := runCLI(t, "archive", "repair", dir)
			if !strings.Contains(out, "rebuilt") {
				t.Errorf("repair says:\n%s", out)
			}
			if out := runCLI(t, "archive", "verify", dir); !strings.Contains(out, "archive intact") {
				t.Errorf("verify after repair:\n%s", out)
			}
			for id, m := range msgs {
				got := runCLI(t, "archive", "cat", dir, id.String())
				if format.Sum([]byte(got)) != format.Sum(m) {
					t.Fatalf("message %s differs after repair", id)
				}
			}
			if out := runCLI(t, "archive", "repair", dir); !strings.Contains(out, "nothing to repair") {
				t.Errorf("second repair:\n%s", out)
			}
		})
	}
}

// TestArchiveCatCraftedIndex: an index file naming one message of 240,000
// chunks is refused when read, quickly and with a clear error.
func TestArchiveCatCraftedIndex(t *testing.T) {
	dir, msgs := testArchive(t, "u@h", "INBOX", 1)
	var real format.ID
	for id := range msgs {
		real = id
	}
	crafted := format.Sum([]byte("crafted"))
	var raw strings.Builder
	raw.WriteString(`{"index":{"version":2}}` + "\n")
	raw.WriteString(`{"message":{"id":"` + crafted.String() + `","size":240000,"chunks":[`)
	for i := range 240000 {
		if i > 0 {
			raw.WriteByte(',')
		}
		raw.WriteString(`"` + real.String() + `"`)
	}
	raw.WriteString("]}}\n" + `{"end":{"records":2}}` + "\n")
	enc, _ := zstd.NewWriter(nil)
	b := enc.EncodeAll([]byte(raw.String()), nil)
	if err := os.WriteFile(filepath.Join(dir, "index", format.Sum(b).String()), b, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := runCLIErr("archive", "cat", dir, crafted.String())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("archive cat took %v", took)
	}
	if err == nil || !strings.Contains(err.Error(), "240000 chunks, over the limit") {
		t.Errorf("archive cat: %v\n%.300s", err, out)
	}
	// The archive's own message still reads.
	if got := runCLI(t, "archive", "cat", dir, real.String()); format.Sum([]byte(got)) != real {
		t.Error("the stored message no longer reads back")
	}
}

// TestArchiveReadOnlyCopy: a copy without tmp/, made read-only, is read by
// info, ls, cat and verify, which write nothing into it.
func TestArchiveReadOnlyCopy(t *testing.T) {
	dir, msgs := testArchive(t, "u@h", "INBOX", 3)
	if err := os.RemoveAll(filepath.Join(dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	var before []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		before = append(before, p)
		if fi.IsDir() {
			t.Cleanup(func() { os.Chmod(p, 0o700) })
			return os.Chmod(p, 0o500)
		}
		return os.Chmod(p, 0o400)
	})
	runCLI(t, "archive", "info", dir)
	runCLI(t, "archive", "ls", dir)
	if out := runCLI(t, "archive", "verify", dir); !strings.Contains(out, "archive intact") {
		t.Errorf("verify:\n%s", out)
	}
	for id, m := range msgs {
		if got := runCLI(t, "archive", "cat", dir, id.String()); got != string(m) {
			t.Fatalf("message %s differs", id)
		}
	}
	var after []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		after = append(after, p)
		return nil
	})
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("reading wrote into the archive:\n%v\n%v", before, after)
	}
}
