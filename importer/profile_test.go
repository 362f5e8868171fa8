package importer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportAppendLimit imports into a server that announces APPENDLIMIT
// (RFC 7889, as Gmail does): messages over it are skipped before their
// bytes are sent, listed with the server's limit as the reason, and every
// other message lands.
func TestImportAppendLimit(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}},
		Capability: "IMAP4rev1 SASL-IR LITERAL+ MULTIAPPEND UIDPLUS NAMESPACE ESEARCH BINARY SPECIAL-USE APPENDLIMIT=3000"})
	var msgs []testserver.Message
	for i := range 6 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 1000+i*600)})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "m.jsonl"), nil)
	big := 0
	for _, m := range msgs {
		if len(m.Body) > 3000 {
			big++
		}
	}
	if big == 0 || len(rep.Skipped) != big || rep.Appended != len(msgs)-big || rep.SkippedByReason["append_limit"] != big {
		t.Fatalf("appended %d, skipped %v (%v); want %d skipped for the APPENDLIMIT", rep.Appended, rep.Skipped, rep.SkippedByReason, big)
	}
	if !strings.Contains(rep.Skipped[0].Reason, "over the server's APPENDLIMIT") {
		t.Errorf("reason %q", rep.Skipped[0].Reason)
	}
	if n := len(dst.Messages(t, "bob")); n != len(msgs)-big {
		t.Errorf("destination holds %d messages, want %d", n, len(msgs)-big)
	}
}

// TestImportDailyBudget: with MaxBytesPerDay the import stops, in order,
// before the day's bytes would pass the budget and leaves the rest for
// the next run; a second run the same day sends nothing more; the next day
// it carries on where it stopped, and everything lands exactly once.
func TestImportDailyBudget(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	var msgs []testserver.Message
	for i := range 10 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 2000)})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	manifest := filepath.Join(t.TempDir(), "m.jsonl")
	day := "2026-12-06"
	defer func(f func() string) { today = f }(today)
	today = func() string { return day }
	budget := func(o *IMAPOptions) { o.MaxBytesPerDay = 4 * 2100 }

	first := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, budget)
	if first.Appended != 4 || first.Deferred != 6 || first.Complete() {
		t.Errorf("first run: appended %d, deferred %d; want 4 and 6", first.Appended, first.Deferred)
	}
	again := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, budget)
	if again.Appended != 0 || again.AlreadyThere != 4 || again.Deferred != 6 {
		t.Errorf("the same day: appended %d, already there %d, deferred %d; want 0, 4, 6", again.Appended, again.AlreadyThere, again.Deferred)
	}
	day = "2026-12-07"
	next := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, budget)
	if next.Appended != 4 || next.Deferred != 2 {
		t.Errorf("the next day: appended %d, deferred %d; want 4 and 2", next.Appended, next.Deferred)
	}
	day = "2026-12-08"
	if last := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, budget); last.Appended != 2 || !last.Complete() {
		t.Errorf("the third day: appended %d, complete %v", last.Appended, last.Complete())
	}
	if got, want := mailbox(t, dst, "bob", same), mailbox(t, src, "alice", same); !slices.Equal(got, want) {
		t.Errorf("destination holds %d messages, want the %d of the source", len(got), len(want))
	}
}
