package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// TestArchiveForgetPrune backs up a Maildir three times while its owner
// deletes mail, then forgets all but the newest backup and prunes: the
// archive verifies, the kept backup reads back byte for byte, and what
// only the forgotten backups held is gone.
func TestArchiveForgetPrune(t *testing.T) {
	md := t.TempDir()
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(md, d), 0o700)
	}
	write := func(i int) {
		body := strings.Repeat(fmt.Sprintf("line %d of message %d\r\n", i, i), 50+i*400)
		name := filepath.Join(md, "cur", fmt.Sprintf("%d.M%dP1.host:2,S", 1700000000+i, i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf("Subject: message %d\r\n\r\n%s", i, body)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(t.TempDir(), "a")
	backup := func() { runCLI(t, "export", "--from", "maildir:"+md, "--archive", arch, "--account", "me") }
	for i := range 12 {
		write(i)
	}
	backup()
	files, _ := filepath.Glob(filepath.Join(md, "cur", "*"))
	for _, f := range files[:4] {
		os.Remove(f)
	}
	write(20)
	backup()
	for _, f := range files[4:6] {
		os.Remove(f)
	}
	write(21)
	backup()

	for _, tc := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"archive", "forget", arch}, 2, "--keep-last"},
		{[]string{"archive", "forget", arch, "--keep-last", "1", "abcd"}, 2, "not both"},
		{[]string{"archive", "forget", arch, "ab"}, 2, "at least 4"},
		{[]string{"archive", "forget", arch, "ffffffff"}, 1, "no snapshot"},
	} {
		out, err := runCLIErr(tc.args...)
		if exitCodeOf(err) != tc.exit || !strings.Contains(out+fmt.Sprint(err), tc.want) {
			t.Errorf("%q: exit %d (want %d), %q %v", tc.args, exitCodeOf(err), tc.exit, out, err)
		}
	}

	// A dry run says what would go and changes nothing.
	snapsBefore := runCLI(t, "archive", "snapshots", arch)
	var dry struct {
		Forgotten int `json:"forgotten"`
		Prune     struct {
			Removed int `json:"messages_removed"`
		} `json:"prune"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "archive", "forget", arch, "--keep-last", "1", "--prune", "--dry-run", "--json")), &dry); err != nil {
		t.Fatal(err)
	}
	if dry.Forgotten != 2 || dry.Prune.Removed != 6 {
		t.Errorf("dry run: %+v, want 2 snapshots forgotten and 6 messages removed", dry)
	}
	if after := runCLI(t, "archive", "snapshots", arch); after != snapsBefore {
		t.Errorf("dry run changed the snapshots:\n%s\n%s", snapsBefore, after)
	}

	// Beside a running export (its writer's shared lock), prune fails
	// naming it, and deletes nothing.
	a, err := archive.Open(arch)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.Lock(false, "export")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := runCLIErr("archive", "prune", arch); exitCodeOf(err) != 1 || !strings.Contains(fmt.Sprint(err), "in use: shared lock of export") {
		t.Errorf("prune beside an export: exit %d, %v %s", exitCodeOf(err), err, out)
	}
	// With --retry-lock it waits for the export to finish.
	time.AfterFunc(300*time.Millisecond, l.Unlock)
	if out, err := runCLIErr("archive", "prune", arch, "--dry-run", "--retry-lock", "1m"); err != nil || !strings.Contains(out, "prune: nothing to delete") {
		t.Errorf("prune --retry-lock beside an export that finishes: %v %s", err, out)
	}

	out := runCLI(t, "archive", "forget", arch, "--keep-last", "1", "--prune")
	if !strings.Contains(out, "forgot 2 of 3 snapshots") || !strings.Contains(out, "removed 6 messages") {
		t.Errorf("forget --prune said:\n%s", out)
	}
	if v := runCLI(t, "archive", "verify", arch); !strings.HasSuffix(strings.TrimSpace(v), "archive intact") {
		t.Errorf("verify after prune:\n%s", v)
	}

	// The kept snapshot is the Maildir as it is now, byte for byte.
	var want []string
	files, _ = filepath.Glob(filepath.Join(md, "cur", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		want = append(want, format.Sum(b).String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(runCLI(t, "archive", "ls", arch, "--json")), "\n") {
		var rec lsRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if body := runCLI(t, "archive", "cat", arch, rec.ID.String()); format.Sum([]byte(body)).String() != rec.ID.String() {
			t.Fatalf("message %s reads back as other bytes", rec.ID.Short())
		}
		got = append(got, rec.ID.String())
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("kept snapshot holds %d messages, the Maildir %d", len(got), len(want))
	}
	var info struct {
		UniqueMessages int `json:"unique_messages"`
	}
	json.Unmarshal([]byte(runCLI(t, "archive", "info", arch, "--json")), &info)
	if info.UniqueMessages != len(want) {
		t.Errorf("the archive stores %d messages after prune, want %d", info.UniqueMessages, len(want))
	}
	if out := runCLI(t, "archive", "prune", arch); !strings.Contains(out, "nothing to delete") {
		t.Errorf("second prune: %s", out)
	}
}
