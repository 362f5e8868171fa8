package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// history is an archive of several accounts' daily snapshots: each day
// some messages arrive and some old ones are deleted at the source, so
// old snapshots alone hold some messages, and others are shared.
type history struct {
	dir   string
	snaps []format.ID               // oldest first
	msgs  map[format.ID][]byte      // every message stored
	named map[format.ID][]format.ID // snapshot -> messages it names
	accts map[format.ID]string      // snapshot -> account
}

func buildHistory(t *testing.T, days int) *history {
	t.Helper()
	return buildHistoryVersion(t, days, format.Version)
}

// buildHistoryVersion builds the history in an archive of format version.
func buildHistoryVersion(t *testing.T, days, version int) *history {
	t.Helper()
	a, err := openOrCreate(t.TempDir(), version)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, err := a.Index()
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(a.Dir(), dirMode) // t.TempDir's mode would make verify note it
	// Small packs, so that a message's pack holds others' data too.
	w, err := a.NewWriter(idx, WriterOptions{FrameSize: 64 << 10, PackSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	h := &history{dir: a.Dir(), msgs: map[format.ID][]byte{}, named: map[format.ID][]format.ID{}, accts: map[format.ID]string{}}
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	for _, acct := range []string{"a@h", "b@h"} {
		var inbox []format.ID
		var parent *format.ID
		for d := range days {
			for i := range 6 {
				n := 500 + (d*131+i*977)%20000
				if i == 0 && d%4 == 1 {
					n = 200 << 10 // a few messages of several chunks
				}
				msg := testMessage(uint64(d*100+i), fmt.Sprintf("Subject: %s day %d message %d", acct, d, i), n)
				id, _, err := w.Put(bytes.NewReader(msg))
				if err != nil {
					t.Fatal(err)
				}
				h.msgs[id] = msg
				inbox = append(inbox, id)
			}
			if len(inbox) > 10 {
				// The user deletes a few, not always the oldest, so
				// that packs come to hold needed and unneeded data.
				for _, i := range []int{5, 3, 0} {
					inbox = slices.Delete(inbox, i, i+1)
				}
			}
			sw, err := w.NewSnapshot(format.Snapshot{Account: acct, Source: format.Source{Kind: format.SourceMaildir, Endpoint: "/m"},
				Run: fmt.Sprint(d), Started: start.AddDate(0, 0, d), Complete: true, Parent: parent})
			if err != nil {
				t.Fatal(err)
			}
			sw.Folder(format.Folder{Name: "INBOX"})
			for u, id := range inbox {
				if err := sw.Message(format.Message{Folder: "INBOX", UID: uint32(u + 1), ID: id, Size: int64(len(h.msgs[id])), InternalDate: time.Unix(1e9, 0)}); err != nil {
					t.Fatal(err)
				}
			}
			sid, err := sw.Commit()
			if err != nil {
				t.Fatal(err)
			}
			parent = &sid
			h.snaps = append(h.snaps, sid)
			h.named[sid] = slices.Clone(inbox)
			h.accts[sid] = acct
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

// forgetByPolicy forgets what policy lets go and returns the kept ids.
func forgetByPolicy(t *testing.T, a *Archive, p RetentionPolicy) []format.ID {
	t.Helper()
	snaps, _, err := a.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	var forget []format.Forgotten
	var kept []format.ID
	for _, d := range p.Apply(snaps) {
		if d.Keep {
			kept = append(kept, d.Snapshot.ID)
			continue
		}
		forget = append(forget, format.Forgotten{ID: d.Snapshot.ID, Account: d.Snapshot.Account, Started: d.Snapshot.Started, Complete: d.Snapshot.Complete, Reason: "retention"})
	}
	if err := a.Forget(forget, "test"); err != nil {
		t.Fatal(err)
	}
	return kept
}

// checkKept verifies the archive and reads every message the kept
// snapshots name back byte for byte; it returns the verify report.
func (h *history) checkKept(t *testing.T, kept []format.ID) *VerifyReport {
	t.Helper()
	a, err := Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %q", rep.Problems)
	}
	r, problems, err := a.OpenReader()
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	defer r.Close()
	for _, sid := range kept {
		var got []format.ID
		err := a.ReadSnapshot(sid, func(rec format.SnapshotRecord) error {
			if rec.Message != nil {
				got = append(got, rec.Message.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("kept snapshot %s: %v", sid.Short(), err)
		}
		if !slices.Equal(got, h.named[sid]) {
			t.Fatalf("snapshot %s names %d messages, want %d", sid.Short(), len(got), len(h.named[sid]))
		}
		for _, id := range got {
			if b := readAll(t, r, id); !bytes.Equal(b, h.msgs[id]) {
				t.Fatalf("message %s differs after prune", id.Short())
			}
		}
	}
	return rep
}

// TestForgetThenPrune forgets by a policy and prunes, in archives of
// format version 2 and of version 1 (whose packs list nothing).
func TestForgetThenPrune(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprint("version ", version), func(t *testing.T) { forgetThenPrune(t, version) })
	}
}

func forgetThenPrune(t *testing.T, version int) {
	h := buildHistoryVersion(t, 30, version)
	a, err := Open(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	before := dirSize(filepath.Join(h.dir, dirPacks))
	kept := forgetByPolicy(t, a, RetentionPolicy{Last: 3, Weekly: 2, Location: time.UTC})
	if len(kept) != 2*4 {
		t.Fatalf("kept %d snapshots, want 8", len(kept))
	}
	// Forgotten snapshots are parents of kept ones: verify takes that.
	h.checkKept(t, kept)
	for _, sid := range h.snaps {
		if !slices.Contains(kept, sid) {
			if err := a.ReadSnapshot(sid, func(format.SnapshotRecord) error { return nil }); !errors.Is(err, ErrForgotten) || !strings.Contains(err.Error(), "retention") {
				t.Errorf("reading a forgotten snapshot: %v", err)
			}
			break
		}
	}

	dry, err := a.Prune(context.Background(), PruneOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Prune(context.Background(), PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prune: %+v", *rep)
	if dry.Removed != rep.Removed || dry.PacksDeleted != rep.PacksDeleted || dry.PacksRewritten != rep.PacksRewritten {
		t.Errorf("dry run said %+v, prune did %+v", *dry, *rep)
	}
	needed := map[format.ID]bool{}
	for _, sid := range kept {
		for _, id := range h.named[sid] {
			needed[id] = true
		}
	}
	if rep.Messages != len(needed) || rep.Removed != len(h.msgs)-len(needed) || rep.Removed == 0 || rep.PacksRewritten == 0 {
		t.Errorf("kept %d messages and removed %d, want %d and %d (and some packs rewritten)", rep.Messages, rep.Removed, len(needed), len(h.msgs)-len(needed))
	}
	vr := h.checkKept(t, kept)
	if len(vr.Unreferenced) > 0 || len(vr.Notes) > 0 {
		t.Errorf("after prune: %d unreferenced messages, notes %q", len(vr.Unreferenced), vr.Notes)
	}
	after := dirSize(filepath.Join(h.dir, dirPacks))
	if after >= before*3/4 {
		t.Errorf("packs %d bytes before, %d after: little reclaimed", before, after)
	}
	idx, _, _ := a.Index()
	for id := range h.msgs {
		if !needed[id] && idx.HasMessage(id) {
			t.Fatalf("message %s, named by forgotten snapshots only, is still stored", id.Short())
		}
	}

	// Pruning again finds nothing to do.
	again, err := a.Prune(context.Background(), PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Removed != 0 || again.PacksDeleted+again.PacksRewritten != 0 {
		t.Errorf("second prune: %+v", *again)
	}
}

// TestPruneRefusesDamage: a snapshot naming a message no index holds (an
// index file lost) makes prune refuse, since the packs it would delete may
// be where repair finds that message.
func TestPruneRefusesDamage(t *testing.T) {
	h := buildHistory(t, 4)
	for _, f := range files(t, h.dir, dirIndex)[:1] {
		os.Remove(f)
	}
	a, _ := Open(h.dir)
	packs := len(files(t, h.dir, dirPacks))
	if _, err := a.Prune(context.Background(), PruneOptions{}); !errors.Is(err, ErrPruneDamaged) {
		t.Fatalf("prune of a damaged archive: %v, want ErrPruneDamaged", err)
	}
	if n := len(files(t, h.dir, dirPacks)); n != packs {
		t.Errorf("packs %d, then %d", packs, n)
	}
}

// TestPruneAndWritersExclude: prune fails while a writer holds its shared
// lock, a writer fails while prune holds the exclusive one, and a lock
// left by a killed process of this host is no obstacle.
func TestPruneAndWritersExclude(t *testing.T) {
	h := buildHistory(t, 2)
	a, _ := Open(h.dir)
	idx, _, _ := a.Index()
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Prune(context.Background(), PruneOptions{})
	var locked *LockedError
	if !errors.As(err, &locked) || locked.Holder.Exclusive || locked.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("prune beside a writer: %v", err)
	}
	w.Close()

	l, err := a.Lock(true, "prune")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.NewWriter(idx, WriterOptions{}); !errors.As(err, &locked) || !locked.Holder.Exclusive {
		t.Fatalf("writer beside prune: %v", err)
	}
	snaps, _, _ := a.Snapshots()
	if err := a.Forget([]format.Forgotten{{ID: snaps[0].ID}}, "test"); !errors.As(err, &locked) {
		t.Fatalf("forget beside prune: %v", err)
	}
	if after, _, _ := a.Snapshots(); len(after) != len(snaps) {
		t.Fatal("forget beside prune removed a snapshot")
	}
	if _, err := a.Repair(context.Background()); !errors.As(err, &locked) {
		t.Fatalf("repair beside prune: %v", err)
	}
	l.Unlock()

	// With RetryLock, prune waits for a writer to finish; without, or
	// for too short a while, it fails.
	w, err = a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Prune(context.Background(), PruneOptions{RetryLock: 200 * time.Millisecond}); !errors.As(err, &locked) {
		t.Fatalf("prune waiting 200 ms for a writer that stays: %v", err)
	}
	time.AfterFunc(300*time.Millisecond, func() { w.Close() })
	if _, err := a.Prune(context.Background(), PruneOptions{RetryLock: time.Minute}); err != nil {
		t.Fatalf("prune waiting for a writer that finishes: %v", err)
	}

	// A lock of a process that is gone.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	stale := filepath.Join(h.dir, dirLocks, "0123456789abcdef01234567")
	os.WriteFile(stale, fmt.Appendf(nil, `{"exclusive":true,"purpose":"prune","host":%q,"pid":%d,"time":"2026-01-01T00:00:00Z"}`, host, cmd.Process.Pid), 0o600)
	if _, err := a.Prune(context.Background(), PruneOptions{}); err != nil {
		t.Fatalf("prune beside a dead process's lock: %v", err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale lock is still there")
	}
	if entries, _ := os.ReadDir(filepath.Join(h.dir, dirLocks)); len(entries) != 0 {
		t.Errorf("%d lock files left", len(entries))
	}
}

// pruneEnv makes the test binary a prune process (see TestMain): its value
// is the archive's directory, then optionally ",N" to SIGKILL itself at the
// N-th step (pruneStep), or ",count" to print how many steps a whole prune
// takes.
const pruneEnv = "MAILFERRY_TEST_ARCHIVE_PRUNE"

func runPruneProcess(spec string) error {
	dir, at, _ := strings.Cut(spec, ",")
	steps := 0
	pruneStep = func() {
		steps++
		if at == strconv.Itoa(steps) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	a, err := Open(dir)
	if err != nil {
		return err
	}
	_, err = a.Prune(context.Background(), PruneOptions{Writer: WriterOptions{FrameSize: 64 << 10, PackSize: 256 << 10}})
	if at == "count" {
		fmt.Println(steps)
	}
	return err
}

// TestPruneKilled SIGKILLs prune processes at each step in turn (after
// every file it stores or deletes, sampled) and at random instants, each
// on a fresh copy of one archive: every time the archive verifies and the
// kept snapshots read back byte for byte, and a prune run to its end then
// leaves nothing unneeded.
func TestPruneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs prune processes")
	}
	h := buildHistory(t, 30)
	a, _ := Open(h.dir)
	kept := forgetByPolicy(t, a, RetentionPolicy{Last: 2, Location: time.UTC})
	start := time.Now()
	out, err := pruneProcess(copyDir(t, h.dir) + ",count").Output()
	if err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)
	steps, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || steps < 10 {
		t.Fatalf("a whole prune takes %q steps (%v): too few to test", out, err)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	t.Logf("a prune process takes %v and %d steps; random kill seed %d", whole, steps, seed)

	// Every step when there are few, else the first and last ten and
	// ten in between.
	var at []int
	for n := 1; n <= steps; n++ {
		if steps <= 40 || n <= 10 || n > steps-10 || n%(steps/10) == 0 {
			at = append(at, n)
		}
	}
	check := func(dir, what string) {
		t.Helper()
		t.Log(what)
		c := *h
		c.dir = dir
		c.checkKept(t, kept)
		if err := runPruneProcess(dir); err != nil {
			t.Fatalf("%s, then a whole prune: %v", what, err)
		}
		if vr := c.checkKept(t, kept); len(vr.Unreferenced) > 0 || len(vr.Notes) > 0 {
			t.Errorf("%s, then a whole prune: %d unreferenced messages, notes %q", what, len(vr.Unreferenced), vr.Notes)
		}
	}
	for _, n := range at {
		dir := copyDir(t, h.dir)
		err := pruneProcess(fmt.Sprintf("%s,%d", dir, n)).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("prune to be killed at step %d: %v", n, err)
		}
		check(dir, fmt.Sprintf("killed at step %d of %d", n, steps))
	}
	for run := range 5 {
		dir := copyDir(t, h.dir)
		cmd := pruneProcess(dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(whole) + 1))
		timer := time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		t.Logf("run %d: kill after %v: %v %s", run, delay, err, stderr.String())
		check(dir, fmt.Sprintf("killed after %v", delay))
	}
}

func pruneProcess(spec string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pruneEnv+"="+spec)
	return cmd
}

// TestWriterAfterPruneReloads: an index loaded before a prune ran names
// data the prune deleted; a Writer made with it afterwards reloads it, so
// it stores those messages again instead of naming what is gone.
func TestWriterAfterPruneReloads(t *testing.T) {
	h := buildHistory(t, 6)
	a, _ := Open(h.dir)
	stale, _, err := a.Index()
	if err != nil {
		t.Fatal(err)
	}
	forgetByPolicy(t, a, RetentionPolicy{Last: 1, Location: time.UTC})
	if _, err := a.Prune(context.Background(), PruneOptions{}); err != nil {
		t.Fatal(err)
	}
	var gone format.ID
	for id := range h.msgs {
		if idx, _, _ := a.Index(); !idx.HasMessage(id) {
			gone = id
			break
		}
	}
	if gone.IsZero() {
		t.Fatal("prune removed nothing")
	}
	w, err := a.NewWriter(stale, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Has(gone) {
		t.Fatalf("the writer takes pruned message %s for stored", gone.Short())
	}
	if _, _, err := w.Put(bytes.NewReader(h.msgs[gone])); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, _, _ := a.OpenReader()
	defer r.Close()
	if !bytes.Equal(readAll(t, r, gone), h.msgs[gone]) {
		t.Fatal("message stored again reads back differently")
	}
}

// TestPruneInterrupted: a prune whose context is cancelled (Ctrl-C) stops
// with the cancel's cause, before deleting anything, and the archive stays
// whole.
func TestPruneInterrupted(t *testing.T) {
	h := buildHistory(t, 8)
	a, _ := Open(h.dir)
	kept := forgetByPolicy(t, a, RetentionPolicy{Last: 1, Location: time.UTC})
	packs, indexes := len(files(t, h.dir, dirPacks)), len(files(t, h.dir, dirIndex))
	stop := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	if _, err := a.Prune(ctx, PruneOptions{}); !errors.Is(err, stop) {
		t.Fatalf("prune with a cancelled context: %v, want the cause", err)
	}
	if p, i := len(files(t, h.dir, dirPacks)), len(files(t, h.dir, dirIndex)); p < packs || i < indexes {
		t.Errorf("packs %d -> %d, index files %d -> %d: an interrupted prune deleted files", packs, p, indexes, i)
	}
	h.checkKept(t, kept)
}
