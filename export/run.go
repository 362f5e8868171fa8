package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// DefaultCheckpointEvery is how often a long export makes its progress
// durable, so that a killed run resumes without downloading what it had
// stored. Each checkpoint costs an fsync of what was stored since.
const DefaultCheckpointEvery = 5 * time.Second

// run is one export run of one account into an archive: the Writer, the
// snapshot listing the account's whole state, and the checkpoints that list
// what the run has stored so far. Its methods are safe for concurrent use.
type run struct {
	a      *archive.Archive
	idx    *archive.Index
	w      *archive.Writer
	header format.Snapshot
	rep    *Report

	mu       sync.Mutex
	full     *archive.SnapshotWriter
	folders  map[string]format.Folder
	delta    []format.Message // stored since the last checkpoint
	lastCkpt time.Time
	every    time.Duration
	// budget is what may still be downloaded today (MaxBytesPerDay); -1
	// for no budget. fresh says nothing was downloaded today yet: then a
	// message larger than the whole budget still goes, or it never would.
	budget int64
	fresh  bool
}

// startRun opens the archive for a run of account from src.
func startRun(a *archive.Archive, account string, src format.Source, opts Options, ns *format.Namespace) (*run, error) {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	idx, problems, err := a.Index()
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		slog.Warn("archive index file unreadable; its messages will be stored again", "problem", p)
	}
	parent, err := parentOf(a, account)
	if err != nil {
		return nil, err
	}
	w, err := a.NewWriter(idx, opts.Writer)
	if err != nil {
		return nil, err
	}
	h := format.Snapshot{Account: account, Source: src, Run: newRunID(), Started: time.Now(), Complete: true, Parent: parent, Tool: opts.Tool, Namespace: ns}
	full, err := w.NewSnapshot(h)
	if err != nil {
		w.Close()
		return nil, err
	}
	budget, fresh := int64(-1), false
	if opts.MaxBytesPerDay > 0 {
		spent := downloadedToday(a, account)
		budget, fresh = max(opts.MaxBytesPerDay-spent, 0), spent == 0
	}
	return &run{a: a, idx: idx, w: w, header: h, rep: &Report{Account: account}, full: full,
		folders: map[string]format.Folder{}, lastCkpt: time.Now(), every: opts.CheckpointEvery, budget: budget, fresh: fresh}, nil
}

// today is the UTC day a daily budget counts (a variable for tests).
var today = func() string { return time.Now().UTC().Format("2006-01-02") }

// downloadedToday sums what the account's runs of today read from their
// source, as their checkpoints record it (each run's largest figure).
func downloadedToday(a *archive.Archive, account string) int64 {
	snaps, _, err := a.Snapshots()
	if err != nil {
		return 0
	}
	byRun := map[string]int64{}
	for _, s := range snaps {
		if s.Account == account && s.Started.UTC().Format("2006-01-02") == today() {
			byRun[s.Run] = max(byRun[s.Run], s.DownloadedBytes)
		}
	}
	var sum int64
	for _, b := range byRun {
		sum += b
	}
	return sum
}

// spend takes size bytes from the day's budget; false once it is spent,
// for this message and, to keep the order, every later one.
func (r *run) spend(size int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.budget < 0 {
		return true
	}
	if size > r.budget && !r.fresh {
		r.budget = 0
		r.rep.Deferred++
		return false
	}
	r.budget, r.fresh = max(r.budget-size, 0), false
	return true
}

// deferred reports whether the budget left messages for the next run.
func (r *run) deferred() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rep.Deferred > 0
}

// folder records a folder; it must come before the folder's messages.
func (r *run) folder(f format.Folder) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.folders[f.Name] = f
	r.rep.Folders++
	return r.full.Folder(f)
}

// message records a message of a recorded folder. stored says the run put
// its bytes into the archive (rather than finding them there), which is
// what a checkpoint must remember for a resumed run.
func (r *run) message(m format.Message, stored bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Messages++
	r.rep.Bytes += m.Size
	if err := r.full.Message(m); err != nil {
		return err
	}
	if stored {
		r.rep.Downloaded++
		r.rep.DownloadedBytes += m.Size
		r.delta = append(r.delta, m)
	}
	if time.Since(r.lastCkpt) >= r.every {
		return r.checkpointLocked()
	}
	return nil
}

func (r *run) fail(folder, item string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.fail(folder, item, err)
	slog.Warn("not exported", "folder", folder, "item", item, "error", err)
}

// checkpointLocked makes every message put so far durable and writes a
// checkpoint snapshot listing those stored since the last one.
func (r *run) checkpointLocked() error {
	r.lastCkpt = time.Now()
	if len(r.delta) == 0 {
		return r.w.Flush()
	}
	h := r.header
	h.Complete = false
	h.Finished = time.Now()
	h.DownloadedBytes = r.rep.DownloadedBytes
	sw, err := r.w.NewSnapshot(h)
	if err != nil {
		return err
	}
	defer sw.Abort()
	written := map[string]bool{}
	for _, m := range r.delta {
		if !written[m.Folder] {
			written[m.Folder] = true
			if err := sw.Folder(r.folders[m.Folder]); err != nil {
				return err
			}
		}
		if err := sw.Message(m); err != nil {
			return err
		}
	}
	if _, err := sw.Commit(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	r.delta = r.delta[:0]
	return nil
}

// finish commits the complete snapshot, with what the run downloaded on
// record for a daily budget.
func (r *run) finish() (*Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.full.SetDownloadedBytes(r.rep.DownloadedBytes)
	id, err := r.full.Commit()
	if err != nil {
		r.w.Close()
		return r.rep, err
	}
	if err := r.w.Close(); err != nil {
		return r.rep, err
	}
	st := r.w.Stats()
	r.rep.Snapshot = id
	r.rep.NewMessages = st.NewMessages
	r.rep.NewBytes = st.PackBytes
	r.rep.Duration = time.Since(r.header.Started)
	return r.rep, nil
}

// stop ends an unfinished run (cancelled, or failed): what was stored is
// kept in a last checkpoint so that the same command resumes from there.
func (r *run) stop() *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkpointLocked(); err != nil {
		slog.Error("last checkpoint failed; a resumed export will download some messages again", "error", err)
	}
	r.full.Abort()
	r.w.Close()
	r.rep.Duration = time.Since(r.header.Started)
	return r.rep
}

// finishOrStop finishes a run that got to its end, or stops one that did
// not, returning the report and the error that stopped it.
func (r *run) finishOrStop(ctx context.Context, err error) (*Report, error) {
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return r.stop(), err
	}
	return r.finish()
}

func (r *run) warn(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rep.Warnings = append(r.rep.Warnings, msg)
	slog.Warn(msg)
}

func newRunID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parentOf returns the account's latest complete snapshot, if any.
func parentOf(a *archive.Archive, account string) (*format.ID, error) {
	snaps, _, err := a.Snapshots()
	if err != nil {
		return nil, err
	}
	s, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		return nil, nil
	}
	return &s.ID, nil
}

func isSourceError(err error) bool {
	var se *archive.SourceError
	return errors.As(err, &se)
}
