package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/format"
)

// PruneReport is what Prune did (or, dry, would do).
type PruneReport struct {
	Snapshots int // snapshots whose messages were kept
	// Messages kept and removed; of the kept, those rewritten into new
	// packs because their old pack held data no snapshot needs.
	Messages, Removed, Rewritten int
	// Packs kept as they were, rewritten (their needed data copied into
	// new packs) and deleted; PacksWritten counts the new ones.
	PacksKept, PacksRewritten, PacksDeleted, PacksWritten int
	IndexFilesDeleted, IndexFilesWritten                  int
	// BytesBefore and BytesAfter are the packs' size on disk.
	BytesBefore, BytesAfter int64
	TmpFilesDeleted         int
}

// PruneOptions tune Prune.
type PruneOptions struct {
	// DryRun computes the report and changes nothing.
	DryRun bool
	// Without are snapshots to count as forgotten already: what a dry
	// forget followed by a prune would do.
	Without []format.Forgotten
	// RetryLock is how long to wait for the exclusive lock while others
	// hold theirs; 0 fails at once.
	RetryLock time.Duration
	// Writer tunes the packs written for rewritten messages.
	Writer WriterOptions
}

// ErrPruneDamaged means Prune refused to run on an archive with damage it
// could make worse: repair and verify it first.
var ErrPruneDamaged = errors.New("the archive is damaged: run mailferry archive repair, then verify, before pruning")

// Prune deletes the data no snapshot needs. It holds the archive's
// exclusive lock, so it fails (with a *LockedError) while an export,
// import or other reader holds a shared one, and they wait for it.
//
// It is crash-safe because it only deletes what no file still names, in
// this order: (1) the needed messages of packs that also hold unneeded data
// are written again into new packs, with their index files; (2) one index
// file naming what stays in the kept packs is written; (3) every older
// index file is deleted, in an order that leaves no message record without
// its chunks; (4) the packs no index names any more are deleted.
// Killed at any point, the archive opens and verifies, and holds every
// message its snapshots name; running Prune again finishes the job.
func (a *Archive) Prune(ctx context.Context, opts PruneOptions) (*PruneReport, error) {
	lock, err := a.LockWait(ctx, true, "prune", opts.RetryLock)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	idx, problems, err := a.Index()
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w (%v)", ErrPruneDamaged, problems[0])
	}
	without := map[format.ID]bool{}
	for _, f := range opts.Without {
		without[f.ID] = true
	}
	needed, snapshots, err := a.neededMessages(idx, without)
	if err != nil {
		return nil, err
	}
	plan, err := a.planPrune(idx, needed)
	if err != nil {
		return nil, err
	}
	rep := &PruneReport{Snapshots: snapshots, Messages: len(needed), Removed: len(idx.messages) - len(needed),
		Rewritten: len(plan.rewrite), PacksKept: plan.kept, PacksRewritten: plan.rewritten,
		PacksDeleted: len(plan.drop) - plan.rewritten, BytesBefore: plan.bytesBefore, BytesAfter: plan.bytesKept}
	if opts.DryRun || (len(plan.drop) == 0 && rep.Removed == 0) {
		return rep, nil
	}

	// (1) Needed messages out of the packs that go, into new packs.
	wopts := opts.Writer
	wopts.unlocked = true
	w, err := a.NewWriter(plan.keep, wopts)
	if err != nil {
		return nil, err
	}
	r, err := a.NewReader(idx)
	if err != nil {
		w.Close()
		return nil, err
	}
	err = a.rewrite(ctx, r, w, plan.rewrite)
	r.Close()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	pruneStep()
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	written := map[format.ID]bool{}
	for _, id := range w.wrote {
		written[id] = true
	}
	st := w.Stats()
	rep.PacksWritten, rep.IndexFilesWritten = int(st.Packs), int(st.IndexFiles)
	rep.BytesAfter += st.PackBytes

	// (2) One index file for what stays where it was.
	if len(plan.keptLocs)+len(plan.keptMsgs) > 0 {
		id, err := a.writeIndex(plan.keptLocs, plan.keptMsgs)
		if err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
		pruneStep()
		written[id] = true
		rep.IndexFilesWritten++
	}
	// (3) The old index files, then (4) the packs they alone named.
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	var old []format.ID
	for id := range idx.loaded {
		if !written[id] {
			old = append(old, id)
		}
	}
	old, err = a.indexDeletionOrder(old, plan.keep)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	for _, id := range old {
		if err := removeFile(filePath(a.dir, dirIndex, id)); err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
		rep.IndexFilesDeleted++
	}
	if err := syncDir(filepath.Join(a.dir, dirIndex)); err != nil {
		return nil, err
	}
	for _, id := range plan.drop {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		if written[id] {
			continue
		}
		if err := removeFile(filePath(a.dir, dirPacks, id)); err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
	}
	// No writer runs beside the exclusive lock: what tmp/ holds was left
	// by writers that died.
	if tmp, err := os.ReadDir(filepath.Join(a.dir, dirTmp)); err == nil {
		for _, e := range tmp {
			if removeFile(filepath.Join(a.dir, dirTmp, e.Name())) == nil {
				rep.TmpFilesDeleted++
			}
		}
	}
	return rep, nil
}

// pruneStep is called after each file prune stores or deletes: tests
// kill the process there, at every step in turn.
var pruneStep = func() {}

// removeFile deletes a file prune no longer needs; one already gone is fine
// (a prune killed before finished part of the job).
func removeFile(path string) error {
	defer pruneStep()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// rewrite reads each message through r and stores it again through w.
func (a *Archive) rewrite(ctx context.Context, r *Reader, w *Writer, ids []format.ID) error {
	for _, id := range ids {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		rc, _, err := r.Open(id)
		if err != nil {
			return err
		}
		got, _, err := w.Put(rc)
		rc.Close()
		if err != nil {
			return err
		}
		pruneStep()
		if got != id {
			return fmt.Errorf("message %s read back as %s: %w", id, got, ErrCorrupt)
		}
	}
	return nil
}
