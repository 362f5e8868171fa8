package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/format"
)

// dirDamaged is where Repair sets aside the files it replaced. Readers and
// verify never read it; delete it once the repaired archive is trusted.
const dirDamaged = "damaged"

// RepairReport says what Repair rebuilt and what it could not.
type RepairReport struct {
	// DamagedIndexFiles could not be read whole; they were moved to damaged/.
	DamagedIndexFiles []format.ID
	// Salvaged counts the records of damaged index files that were kept,
	// each checked against the pack it names first.
	Salvaged int
	// Chunks and Messages are the entries NewIndex holds: what no intact
	// index file named, rebuilt from the packs' lists and salvaged records.
	Chunks, Messages int
	NewIndex         format.ID
	Snapshots        []RepairedSnapshot
	// Lost says what could not be rebuilt, and why.
	Lost []string
	// Moved are the damaged files set aside, relative to the archive.
	Moved []string
}

// Changed reports whether Repair wrote or moved anything.
func (r *RepairReport) Changed() bool { return len(r.Moved) > 0 || !r.NewIndex.IsZero() }

// RepairedSnapshot is a damaged snapshot file and the one written from its
// complete records (To is zero when none could be kept).
type RepairedSnapshot struct {
	From, To          format.ID
	Folders, Messages int
	Cause             error
}

// Repair rebuilds what damaged or lost index files described, from the
// lists packs carry (format version 2) and the readable records of the
// damaged files, and writes a snapshot file of the complete records of each
// damaged snapshot. It only adds files, then moves the damaged ones to
// damaged/; writers may run meanwhile, a prune may not (it would delete
// packs the new index names): Repair holds a shared lock.
func (a *Archive) Repair(ctx context.Context) (*RepairReport, error) {
	if err := a.prepareWrite(); err != nil {
		return nil, err
	}
	lock, err := a.Lock(false, "repair")
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	rep := &RepairReport{}
	idx := newIndex()
	indexIDs, _, err := a.listFiles(dirIndex)
	if err != nil {
		return nil, err
	}
	var salvaged []format.IndexRecord
	for _, id := range indexIDs {
		if err := a.checkFileHash(dirIndex, id); err == nil {
			err = a.loadIndexFile(idx, id)
			if errors.Is(err, format.ErrNewerVersion) {
				return nil, fmt.Errorf("index %s: %w", id, err)
			}
			if err == nil {
				continue
			}
		}
		rep.DamagedIndexFiles = append(rep.DamagedIndexFiles, id)
		salvaged = append(salvaged, a.salvageIndex(id)...)
	}

	// What the packs say they hold.
	packIDs, _, err := a.listFiles(dirPacks)
	if err != nil {
		return nil, err
	}
	var listed []format.IndexRecord
	var unlisted []format.ID
	for _, p := range packIDs {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		l, err := a.openPackList(p)
		if errors.Is(err, errNoPackList) {
			unlisted = append(unlisted, p)
			continue
		}
		if err != nil {
			rep.Lost = append(rep.Lost, fmt.Sprintf("%s: %v: what it holds cannot be listed", packRel(p), err))
			continue
		}
		for i := range l.chunks {
			listed = append(listed, format.IndexRecord{Chunk: &l.chunks[i]})
		}
		for i := range l.msgs {
			listed = append(listed, format.IndexRecord{Message: &l.msgs[i]})
		}
	}

	newLocs, newMsgs, err := a.rebuildEntries(idx, listed, salvaged, rep)
	if err != nil {
		return nil, err
	}
	if len(newLocs)+len(newMsgs) > 0 {
		if rep.NewIndex, err = a.writeIndex(newLocs, newMsgs); err != nil {
			return nil, fmt.Errorf("write the rebuilt index: %w", err)
		}
		rep.Chunks, rep.Messages = len(newLocs), len(newMsgs)
	}
	if len(rep.DamagedIndexFiles) > 0 && len(unlisted) > 0 {
		rep.Lost = append(rep.Lost, fmt.Sprintf("%d packs carry no list (format version 1): what the damaged index files named beyond the %d records salvaged cannot be rebuilt", len(unlisted), rep.Salvaged))
	}
	// Only now that their content is stored again are damaged files moved.
	for _, id := range rep.DamagedIndexFiles {
		if id == rep.NewIndex {
			// Rebuilt byte for byte: storing it replaced the damaged file.
			continue
		}
		if err := a.setAside(dirIndex, id, rep); err != nil {
			return rep, err
		}
	}

	if err := a.repairSnapshots(ctx, idx, rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// salvageIndex returns the records of a damaged index file up to the damage.
func (a *Archive) salvageIndex(id format.ID) []format.IndexRecord {
	var out []format.IndexRecord
	a.readIndexFile(id, func(rec format.IndexRecord) { out = append(out, rec) })
	return out
}

// rebuildEntries returns the chunk locations and messages that idx lacks:
// those of the packs' lists, trusted as the packs' own word (verify checks
// them), and those salvaged from damaged index files, kept only once their
// bytes check out. It adds them to idx.
func (a *Archive) rebuildEntries(idx *Index, listed, salvaged []format.IndexRecord, rep *RepairReport) ([]format.ChunkLocation, []format.MessageChunks, error) {
	var locs []format.ChunkLocation
	var msgs []format.MessageChunks
	idx.mu.Lock()
	for _, r := range listed {
		if c := r.Chunk; c != nil {
			if _, ok := idx.chunks[c.ID]; !ok {
				idx.addChunkLocked(*c)
				locs = append(locs, *c)
			}
		}
	}
	idx.mu.Unlock()

	// Salvaged chunk locations: read each back before trusting it.
	check := newIndex()
	for _, r := range salvaged {
		if c := r.Chunk; c != nil && !idx.hasChunk(c.ID) {
			check.addChunkLocked(*c)
		}
	}
	cr, err := a.NewReader(check)
	if err != nil {
		return nil, nil, err
	}
	for id := range check.chunks {
		if _, err := cr.Chunk(id); err == nil {
			loc, _ := check.chunk(id)
			idx.mu.Lock()
			idx.addChunkLocked(loc)
			idx.mu.Unlock()
			locs = append(locs, loc)
			rep.Salvaged++
		}
	}
	cr.Close()

	r, err := a.NewReader(idx)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	add := func(m format.MessageChunks, fromDamagedFile bool) {
		if idx.HasMessage(m.ID) {
			return
		}
		for _, c := range m.Chunks {
			if !idx.hasChunk(c) {
				rep.Lost = append(rep.Lost, fmt.Sprintf("message %s: its chunk %s is in no index and no pack's list", m.ID, c))
				return
			}
		}
		idx.mu.Lock()
		idx.addMessageLocked(m)
		idx.mu.Unlock()
		if fromDamagedFile {
			// A record of a damaged file is kept only if it reads back.
			if err := readThrough(r, m.ID); err != nil {
				idx.mu.Lock()
				delete(idx.messages, m.ID)
				idx.mu.Unlock()
				return
			}
			rep.Salvaged++
		}
		msgs = append(msgs, m)
	}
	for _, rec := range listed {
		if rec.Message != nil {
			add(*rec.Message, false)
		}
	}
	for _, rec := range salvaged {
		if rec.Message != nil {
			add(*rec.Message, true)
		}
	}
	return locs, msgs, nil
}

// setAside moves a damaged file of a kind to damaged/KIND/.
func (a *Archive) setAside(kind string, id format.ID, rep *RepairReport) error {
	dst := filepath.Join(a.dir, dirDamaged, kind, id.String())
	if err := os.MkdirAll(filepath.Dir(dst), dirMode); err != nil {
		return err
	}
	if err := os.Rename(filePath(a.dir, kind, id), dst); err != nil {
		return fmt.Errorf("set aside %s %s: %w", kind, id, err)
	}
	rel, _ := filepath.Rel(a.dir, dst)
	rep.Moved = append(rep.Moved, rel)
	return syncDir(filepath.Dir(filePath(a.dir, kind, id)))
}

// repairSnapshots writes, for each damaged snapshot file, a snapshot of its
// complete records, and counts the records whose message no index holds.
func (a *Archive) repairSnapshots(ctx context.Context, idx *Index, rep *RepairReport) error {
	ids, _, err := a.listFiles(dirSnapshots)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		missing := 0
		cause := a.checkFileHash(dirSnapshots, id)
		if cause == nil {
			cause = a.ReadSnapshot(id, func(r format.SnapshotRecord) error {
				if r.Message != nil && !idx.HasMessage(r.Message.ID) {
					missing++
				}
				return nil
			})
		}
		if errors.Is(cause, format.ErrNewerVersion) {
			return cause
		}
		if cause == nil {
			if missing > 0 {
				rep.Lost = append(rep.Lost, fmt.Sprintf("snapshot %s: %d message records name messages no index or pack list holds", id, missing))
			}
			continue
		}
		rs, err := a.repairSnapshot(id, cause, idx, rep)
		if err != nil {
			return err
		}
		rep.Snapshots = append(rep.Snapshots, rs)
		if err := a.setAside(dirSnapshots, id, rep); err != nil {
			return err
		}
	}
	return nil
}

// repairSnapshot writes a snapshot of the complete records of damaged file
// id: a first pass counts them, a second copies them, so that a snapshot of
// any size takes bounded memory.
func (a *Archive) repairSnapshot(id format.ID, cause error, idx *Index, rep *RepairReport) (RepairedSnapshot, error) {
	rs := RepairedSnapshot{From: id, Cause: cause}
	var h format.Snapshot
	count := func(limit int, fn func(format.SnapshotRecord) error) int {
		n := 0
		a.ReadSnapshot(id, func(r format.SnapshotRecord) error {
			if n == limit {
				return io.EOF
			}
			n++
			if fn != nil {
				return fn(r)
			}
			return nil
		})
		return n
	}
	var err error
	if h, err = a.snapshotHeader(id); err != nil {
		rep.Lost = append(rep.Lost, fmt.Sprintf("snapshot %s: %v: nothing of it can be kept", id, err))
		return rs, nil
	}
	// A record naming a message no index holds is dropped: past a flipped
	// byte (not a cut) a damaged file can decode to well-formed records
	// with wrong ids, and the message is gone either way.
	missing := 0
	total := count(-1, func(r format.SnapshotRecord) error {
		if r.Folder != nil {
			rs.Folders++
		} else if idx.HasMessage(r.Message.ID) {
			rs.Messages++
		} else {
			missing++
		}
		return nil
	})
	h.Repaired = &format.Repaired{From: id, Time: time.Now().UTC().Truncate(time.Second), Complete: h.Complete, Folders: rs.Folders, Messages: rs.Messages}
	h.Complete = false
	h.Version = a.config.Version
	tf, err := a.newTempFile()
	if err != nil {
		return rs, err
	}
	defer tf.abort()
	enc, err := format.NewSnapshotEncoder(tf, h)
	if err != nil {
		return rs, err
	}
	var werr error
	count(total, func(r format.SnapshotRecord) error {
		if r.Folder != nil {
			werr = enc.Folder(*r.Folder)
		} else if idx.HasMessage(r.Message.ID) {
			werr = enc.Message(*r.Message)
		}
		return werr
	})
	if werr != nil {
		return rs, werr
	}
	if err := enc.Close(); err != nil {
		return rs, err
	}
	if rs.To, err = tf.commit(dirSnapshots); err != nil {
		return rs, err
	}
	rep.Lost = append(rep.Lost, fmt.Sprintf("snapshot %s (account %s): %v; its %d folder and %d message records up to the damage are kept in snapshot %s, marked repaired and not complete",
		id, format.QuoteName(h.Account), cause, rs.Folders, rs.Messages, rs.To))
	if missing > 0 {
		rep.Lost = append(rep.Lost, fmt.Sprintf("snapshot %s: %d of its readable message records name messages no index or pack list holds; they were left out", id, missing))
	}
	return rs, nil
}
