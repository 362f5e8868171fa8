package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
)

// TestArchiveSnapshotsAndCatByPrefix exports the sample Maildir twice:
// archive snapshots lists both runs with their counts, and archive cat
// takes a unique id prefix, refusing an ambiguous or too short one.
func TestArchiveSnapshotsAndCatByPrefix(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "a")
	for range 2 {
		runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch, "--account", "sample")
	}
	var lines []snapshotLine
	for _, l := range strings.Split(strings.TrimSpace(runCLI(t, "archive", "snapshots", arch, "--json")), "\n") {
		var s snapshotLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		lines = append(lines, s)
	}
	complete := 0
	for _, s := range lines {
		if s.Kind == "complete" {
			complete++
			if s.Account != "sample" || s.Messages != 25 || s.Folders == 0 || s.Bytes == 0 {
				t.Errorf("snapshot %+v", s)
			}
		}
	}
	if complete != 2 {
		t.Errorf("%d complete snapshots listed, want 2: %+v", complete, lines)
	}
	if text := runCLI(t, "archive", "snapshots", arch); !strings.Contains(text, "SNAPSHOT") || !strings.Contains(text, `"sample"`) {
		t.Errorf("text listing:\n%s", text)
	}

	var rec lsRecord
	first, _, _ := strings.Cut(runCLI(t, "archive", "ls", arch, "--json"), "\n")
	if err := json.Unmarshal([]byte(first), &rec); err != nil {
		t.Fatal(err)
	}
	body := runCLI(t, "archive", "cat", arch, rec.ID.String()[:12])
	if format.Sum([]byte(body)) != rec.ID {
		t.Errorf("cat by a 12-digit prefix gave other bytes")
	}
	if _, err := runCLIErr("archive", "cat", arch, "ab"); exitCodeOf(err) != 2 {
		t.Errorf("cat with a 2-digit prefix: exit %d, want 2 (%v)", exitCodeOf(err), err)
	}
	if _, err := runCLIErr("archive", "cat", arch, rec.ID.String()[:1]+"zzz"); exitCodeOf(err) != 2 {
		t.Errorf("cat with a prefix that is not hex: exit %d, want 2", exitCodeOf(err))
	}
}

// TestArchiveInfoAndVerifyJSON: both commands speak JSON for scripts.
func TestArchiveInfoAndVerifyJSON(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "a")
	report := filepath.Join(t.TempDir(), "export.json")
	runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch, "--account", "sample", "--report", report)
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), `"account": "sample"`) {
		t.Errorf("export --report: %v %.200s", err, b)
	}
	var info struct {
		Accounts []struct {
			Account  string `json:"account"`
			Messages int    `json:"messages"`
		} `json:"accounts"`
		UniqueMessages int `json:"unique_messages"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "archive", "info", arch, "--json")), &info); err != nil || len(info.Accounts) != 1 ||
		info.Accounts[0].Account != "sample" || info.Accounts[0].Messages != 25 || info.UniqueMessages == 0 {
		t.Errorf("info --json: %+v %v", info, err)
	}
	var v struct {
		Intact   bool `json:"intact"`
		Messages int  `json:"messages"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "archive", "verify", arch, "--json")), &v); err != nil || !v.Intact || v.Messages == 0 {
		t.Errorf("verify --json: %+v %v", v, err)
	}
}

// TestExtractRefusesATargetWithMail: a second extract into the same
// directory is refused in one line, before anything is written.
func TestExtractRefusesATargetWithMail(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "a")
	runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch)
	for _, kind := range []string{"maildir", "mbox", "eml"} {
		to := kind + ":" + filepath.Join(t.TempDir(), "out")
		runCLI(t, "archive", "extract", arch, "--to", to)
		out, err := runCLIErr("archive", "extract", arch, "--to", to)
		if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "holds files already") || strings.Count(out, "\n") > 1 {
			t.Errorf("%s: second extract: exit %d, %v\n%s", kind, exitCodeOf(err), err, out)
		}
	}
}

// TestArchiveLsFilters: archive ls shows date, sender and subject (encoded
// words decoded) and keeps what --folder, --from, --subject, --since and
// --before ask for.
func TestArchiveLsFilters(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "a")
	runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch)
	all := runCLI(t, "archive", "ls", arch)
	if !strings.Contains(all, "FROM\tSUBJECT") || !strings.Contains(all, "Henrik Åström") || !strings.Contains(all, "Running late") {
		t.Errorf("text listing lacks senders or subjects:\n%s", all)
	}
	count := func(args ...string) int {
		out := strings.TrimSpace(runCLI(t, append([]string{"archive", "ls", arch, "--json"}, args...)...))
		if out == "" {
			return 0
		}
		return len(strings.Split(out, "\n"))
	}
	total := count()
	for _, tc := range []struct {
		args []string
		want func(n int) bool
	}{
		{[]string{"--subject", "running LATE"}, func(n int) bool { return n == 1 }},
		{[]string{"--from", "judy@"}, func(n int) bool { return n >= 1 && n < total }},
		{[]string{"--folder", "^INBOX$"}, func(n int) bool { return n > 0 && n < total }},
		{[]string{"--since", "2000-01-01"}, func(n int) bool { return n == total }},
		{[]string{"--before", "2000-01-01"}, func(n int) bool { return n == 0 }},
	} {
		if n := count(tc.args...); !tc.want(n) {
			t.Errorf("ls %v: %d of %d messages", tc.args, n, total)
		}
	}
	if _, err := runCLIErr("archive", "ls", arch, "--since", "yesterday"); exitCodeOf(err) != 2 {
		t.Errorf("--since yesterday: exit %d, want 2", exitCodeOf(err))
	}
}

// TestExtractOneFolderAndOneMessage: extract --include writes one folder
// and nothing else; --id writes one message and the folder it is in.
func TestExtractOneFolderAndOneMessage(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "a")
	runCLI(t, "export", "--from", "maildir:../../testdata/maildir", "--archive", arch)
	var recs []lsRecord
	for _, l := range strings.Split(strings.TrimSpace(runCLI(t, "archive", "ls", arch, "--json")), "\n") {
		var r lsRecord
		json.Unmarshal([]byte(l), &r)
		recs = append(recs, r)
	}
	inbox := 0
	for _, r := range recs {
		if r.Folder == "INBOX" {
			inbox++
		}
	}
	one := filepath.Join(t.TempDir(), "inbox")
	out := runCLI(t, "archive", "extract", arch, "--to", "eml:"+one, "--include", "^INBOX$")
	if !strings.Contains(out, fmt.Sprintf("1 folders, %d messages", inbox)) {
		t.Errorf("extract --include ^INBOX$: %s (INBOX holds %d)", out, inbox)
	}
	// A message the sample holds once (some are in two folders).
	times := map[format.ID]int{}
	for _, r := range recs {
		times[r.ID]++
	}
	pick := recs[0]
	for _, r := range recs {
		if times[r.ID] == 1 {
			pick = r
			break
		}
	}
	msg := filepath.Join(t.TempDir(), "msg")
	out = runCLI(t, "archive", "extract", arch, "--to", "eml:"+msg, "--id", pick.ID.String()[:10])
	if !strings.Contains(out, "1 folders, 1 messages") {
		t.Errorf("extract --id: %s", out)
	}
	files, _ := filepath.Glob(filepath.Join(msg, "*", "*.eml"))
	if len(files) != 1 {
		t.Fatalf("extract --id wrote %d files", len(files))
	}
	if b, _ := os.ReadFile(files[0]); format.Sum(b) != pick.ID {
		t.Errorf("the extracted message is not the one asked for")
	}
}
