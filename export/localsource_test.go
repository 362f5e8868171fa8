package export

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

func openSample(t *testing.T, kind string) Source {
	t.Helper()
	var src Source
	var err error
	switch kind {
	case "maildir":
		src, err = OpenMaildir("../testdata/maildir")
	case "mbox":
		src, err = OpenMbox("../testdata/mbox")
	}
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func res(s ...string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, e := range s {
		out = append(out, regexp.MustCompile(e))
	}
	return out
}

// snapshotFolders returns the folders of the account's latest snapshot
// and how many messages each holds.
func snapshotFolders(t *testing.T, a *archive.Archive, account string) map[string]int {
	t.Helper()
	snaps, _, err := a.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	s, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	a.ReadSnapshot(s.ID, func(rec format.SnapshotRecord) error {
		if rec.Folder != nil {
			got[rec.Folder.Name] += 0
		} else {
			got[rec.Message.Folder]++
		}
		return nil
	})
	return got
}

// TestLocalSourcesFilterAndDryRun exports the sample Maildir and mbox
// with --include and --exclude, first as a dry run (which must leave the
// archive without a snapshot), then for real: both hold exactly the
// selected folders.
func TestLocalSourcesFilterAndDryRun(t *testing.T) {
	for _, tc := range []struct {
		source           string
		include, exclude []string
		want             map[string]int
	}{
		{"maildir", []string{`^(INBOX|Sent|Q&A)$`}, []string{`^Sent$`}, map[string]int{"INBOX": 12, "Q&A": 3}},
		{"maildir", nil, []string{`^Archive`, `^Trailing`, `^INBOX$`}, map[string]int{"Entwürfe": 2, "Q&A": 3, "Sent": 1}},
		{"mbox", []string{`^Archive`}, nil, map[string]int{"Archive": 0, "Archive/2023": 2}},
		{"mbox", nil, []string{`^Archive`}, map[string]int{"INBOX": 0, "Sent": 0}},
	} {
		t.Run(tc.source, func(t *testing.T) {
			dir := t.TempDir()
			a, err := archive.OpenOrCreate(dir)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Account: "me", Filter: FolderFilter{Include: res(tc.include...), Exclude: res(tc.exclude...)}, DryRun: true}
			rep, err := Run(context.Background(), a, openSample(t, tc.source), opts)
			if err != nil {
				t.Fatal(err)
			}
			planned := map[string]int{}
			for _, p := range rep.Plan {
				planned[p.Folder] = p.Messages
			}
			if tc.source == "maildir" && !mapsEqual(planned, tc.want) {
				t.Errorf("dry run planned %v, want %v", planned, tc.want)
			}
			if snaps, _, _ := a.Snapshots(); len(snaps) != 0 || !rep.DryRun {
				t.Fatalf("dry run stored %d snapshots", len(snaps))
			}
			if packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*", "*")); len(packs) != 0 {
				t.Fatalf("dry run stored packs %v", packs)
			}

			opts.DryRun = false
			rep, err = Run(context.Background(), a, openSample(t, tc.source), opts)
			if err != nil || !rep.Complete() {
				t.Fatalf("export: %v %+v", err, rep)
			}
			got := snapshotFolders(t, a, "me")
			if tc.source == "mbox" {
				// The sample's INBOX and Sent sizes are the mbox files';
				// count them from the dry run.
				for f := range tc.want {
					tc.want[f] = max(tc.want[f], planned[f])
				}
			}
			if !mapsEqual(got, tc.want) {
				t.Errorf("snapshot holds %v, want %v", got, tc.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestRunRefusesOptions: an option a source cannot honour is refused, not
// ignored, and nothing is stored.
func TestRunRefusesOptions(t *testing.T) {
	imapSrc := func(*testing.T) Source {
		return NewIMAPSource(IMAPConfig{Endpoint: "imap://x@127.0.0.1:1", Dial: nil})
	}
	local := func(kind string) func(*testing.T) Source {
		return func(t *testing.T) Source { return openSample(t, kind) }
	}
	for _, tc := range []struct {
		name   string
		src    func(*testing.T) Source
		opts   Options
		option string
	}{
		{"delete after export from IMAP", imapSrc, Options{DeleteAfterExport: true}, "DeleteAfterExport"},
		{"delete after export from Maildir", local("maildir"), Options{DeleteAfterExport: true}, "DeleteAfterExport"},
		{"connections to mbox", local("mbox"), Options{Connections: 2}, "Connections"},
		{"connections to Maildir", local("maildir"), Options{Connections: 4}, "Connections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, _ := archive.OpenOrCreate(dir)
			_, err := Run(context.Background(), a, tc.src(t), tc.opts)
			var ue *UnsupportedError
			if !errors.As(err, &ue) || ue.Option != tc.option {
				t.Fatalf("Run: %v, want UnsupportedError for %s", err, tc.option)
			}
			if snaps, _, _ := a.Snapshots(); len(snaps) != 0 {
				t.Errorf("%d snapshots stored", len(snaps))
			}
		})
	}
}

// TestMaildirCheckpointsAndResume stops a throttled Maildir export part
// way: its checkpoints keep what it stored, the progress counts it, and
// the next run stores only the rest, each message once.
func TestMaildirCheckpointsAndResume(t *testing.T) {
	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	opts := Options{Account: "me", CheckpointEvery: 100 * time.Millisecond, Throttle: mailconn.NewThrottle(10, 0)}
	rep, err := Run(ctx, a, openSample(t, "maildir"), opts)
	if err == nil {
		t.Fatal("the throttled export finished within its deadline: the test tested nothing")
	}
	first := rep.Downloaded
	idx, _, _ := a.Index()
	_, _, stored, _ := idx.Counts()
	if first < 3 || first >= 25 || int64(stored) < first-1 {
		t.Fatalf("stopped run downloaded %d, archive holds %d messages", first, stored)
	}
	snaps, _, _ := a.Snapshots()
	if len(snaps) == 0 || slices.ContainsFunc(snaps, func(s archive.SnapshotInfo) bool { return s.Complete }) {
		t.Fatalf("after the stopped run: %d snapshots, want checkpoints only", len(snaps))
	}

	rep, err = Run(context.Background(), a, openSample(t, "maildir"), Options{Account: "me"})
	if err != nil || !rep.Complete() {
		t.Fatalf("resumed export: %v %+v", err, rep)
	}
	// The sample holds some messages in two folders: count distinct ones.
	distinct := map[format.ID]bool{}
	a.ReadSnapshot(rep.Snapshot, func(rec format.SnapshotRecord) error {
		if rec.Message != nil {
			distinct[rec.Message.ID] = true
		}
		return nil
	})
	if rep.Messages != 25 || rep.NewMessages != int64(len(distinct)-stored) {
		t.Errorf("resumed export: %d messages, %d new; %d were stored before, %d distinct", rep.Messages, rep.NewMessages, stored, len(distinct))
	}
	idx, _, _ = a.Index()
	if _, _, n, _ := idx.Counts(); n != len(distinct) {
		t.Errorf("archive holds %d messages, want %d", n, len(distinct))
	}
}
