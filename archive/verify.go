package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// VerifyReport is what Verify found. Problems name every damaged or missing
// piece; Notes are harmless findings such as files a crash left in tmp/.
type VerifyReport struct {
	Packs, IndexFiles, Snapshots int
	Chunks, Messages, Records    int
	// Unreferenced are the stored messages no snapshot names: a run that
	// stopped before its snapshot leaves them, and so does a lost snapshot.
	Unreferenced []format.ID
	Problems     []string
	Notes        []string
}

// OK reports whether verify found no damage. An archive without snapshots
// has no damage, yet nothing to restore either: see HasSnapshots.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// HasSnapshots reports whether the archive holds at least one snapshot.
func (r *VerifyReport) HasSnapshots() bool { return r.Snapshots > 0 }

func (r *VerifyReport) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify re-reads every file of the archive: each file's SHA-256 against its
// name, every frame of every pack, every chunk and message against its hash,
// and every snapshot record against the index. It returns an error only when
// it cannot run at all; damage goes into the report.
func (a *Archive) Verify(ctx context.Context) (*VerifyReport, error) {
	lock, err := a.LockShared("archive verify")
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	rep := &VerifyReport{}
	idx := newIndex()

	// Index files first: they say what the packs must hold.
	indexIDs, strays, err := a.listFiles(dirIndex)
	if err != nil {
		return nil, err
	}
	a.noteStrays(rep, strays)
	for _, id := range indexIDs {
		rep.IndexFiles++
		rel := filepath.Join(dirIndex, id.String())
		if err := a.checkFileHash(dirIndex, id); err != nil {
			rep.problem("%s: %v", rel, err)
			continue
		}
		if err := a.loadIndexFile(idx, id); err != nil {
			rep.problem("%s: %v", rel, err)
		}
	}
	rep.Chunks = len(idx.chunks)
	rep.Messages = len(idx.messages)

	// Packs: each frame decompressed, each chunk the index places there checked.
	byPack := idx.byPack()
	packIDs, strays, err := a.listFiles(dirPacks)
	if err != nil {
		return nil, err
	}
	a.noteStrays(rep, strays)
	badChunks := map[format.ID]bool{}
	present := map[format.ID]bool{}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2*format.MaxFrameSize))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	for _, id := range packIDs {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		rep.Packs++
		present[id] = true
		locs := byPack[id]
		damaged, list := a.verifyPack(dec, id, locs, rep)
		for _, bad := range damaged {
			badChunks[bad] = true
		}
		if list == nil {
			if len(locs) == 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no index names it (a writer stopped before indexing it); harmless", packRel(id)))
			}
			continue
		}
		var chunks, msgs int
		for _, c := range list.chunks {
			if !idx.hasChunk(c.ID) {
				chunks++
			}
		}
		for _, m := range list.msgs {
			if !idx.HasMessage(m.ID) {
				msgs++
			}
		}
		if chunks+msgs > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: lists %d chunks and %d messages that no index names: harmless if a writer stopped before indexing them, else an index file was lost (mailferry archive repair indexes them)", packRel(id), chunks, msgs))
		}
	}
	for pack, locs := range byPack {
		if !present[pack] {
			rep.problem("%s: missing, yet the index places %d chunks in it", packRel(pack), len(locs))
			for _, l := range locs {
				badChunks[l.ID] = true
			}
		}
	}

	// Messages: every chunk present, and their concatenation hashes to the id.
	r, err := a.NewReader(idx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	badMsgs := map[format.ID]string{}
	msgIDs := make([]format.ID, 0, len(idx.messages))
	for id := range idx.messages {
		msgIDs = append(msgIDs, id)
	}
	sort.Slice(msgIDs, func(i, j int) bool { return msgIDs[i].String() < msgIDs[j].String() })
	for _, id := range msgIDs {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		if why := checkMessage(r, idx, id, badChunks); why != "" {
			badMsgs[id] = why
			rep.problem("message %s: %s", id, why)
		}
	}

	// Snapshots: every record's message present and of the recorded size.
	snapIDs, strays, err := a.listFiles(dirSnapshots)
	if err != nil {
		return nil, err
	}
	a.noteStrays(rep, strays)
	snapSet := map[format.ID]bool{}
	// A parent forgotten on purpose is no damage.
	forgotten, forgetProblems, err := a.Forgotten()
	if err != nil {
		return nil, err
	}
	for _, p := range forgetProblems {
		rep.problem("%v", p)
	}
	forgetIDs, strays, err := a.listFiles(dirForgotten)
	if err != nil {
		return nil, err
	}
	a.noteStrays(rep, strays)
	for _, id := range forgetIDs {
		if err := a.checkFileHash(dirForgotten, id); err != nil {
			rep.problem("%s: %v", filepath.Join(dirForgotten, id.String()), err)
		}
	}
	for id := range forgotten {
		snapSet[id] = true
	}
	for _, id := range snapIDs {
		snapSet[id] = true
		// A snapshot repaired from a damaged file stands in for it as a parent.
		if h, err := a.snapshotHeader(id); err == nil && h.Repaired != nil {
			snapSet[h.Repaired.From] = true
		}
	}
	named := map[format.ID]bool{}
	for _, id := range snapIDs {
		rep.Snapshots++
		a.verifySnapshot(id, idx, badMsgs, snapSet, named, rep)
	}
	for _, id := range msgIDs {
		if !named[id] {
			rep.Unreferenced = append(rep.Unreferenced, id)
		}
	}
	if n := len(rep.Unreferenced); n > 0 && len(snapIDs) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d stored messages are named by no snapshot (first: %s): a run stopped before its snapshot, or a snapshot file was lost", n, rep.Unreferenced[0]))
	}

	if n := a.countShared(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d files or directories of the archive are open to other users (written before archives were private?): chmod -R go= %s", n, a.dir))
	}
	if d, err := os.ReadDir(filepath.Join(a.dir, dirDamaged)); err == nil && len(d) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s/ holds the damaged files archive repair set aside; never read, delete it when satisfied", dirDamaged))
	}
	if tmp, err := os.ReadDir(filepath.Join(a.dir, dirTmp)); err == nil && len(tmp) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s/ holds %d unfinished files left by interrupted writers; harmless, never read", dirTmp, len(tmp)))
	}
	return rep, nil
}

func packRel(id format.ID) string {
	s := id.String()
	return filepath.Join(dirPacks, s[:2], s)
}

func (a *Archive) noteStrays(rep *VerifyReport, strays []string) {
	for _, s := range strays {
		rel, _ := filepath.Rel(a.dir, s)
		rep.problem("%s: not an archive file name (a file that does not belong, or a renamed one)", rel)
	}
}

// checkFileHash re-hashes a whole file against the id that names it.
func (a *Archive) checkFileHash(kind string, id format.ID) error {
	f, err := a.openFile(kind, id)
	if err != nil {
		return err
	}
	defer f.Close()
	got, _, err := format.SumReader(f)
	if err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("content hashes to %s: file damaged or truncated", got.Short())
	}
	return nil
}

// verifyPack checks one pack, the chunks the index places in it and those
// its list names, and returns the chunks found damaged and the list.
func (a *Archive) verifyPack(dec *zstd.Decoder, id format.ID, locs []format.ChunkLocation, rep *VerifyReport) ([]format.ID, *packList) {
	rel := packRel(id)
	bad := func() []format.ID {
		out := make([]format.ID, len(locs))
		for i, l := range locs {
			out[i] = l.ID
		}
		return out
	}
	if err := a.checkFileHash(dirPacks, id); err != nil {
		rep.problem("%s: %v", rel, err)
	}
	f, err := a.openFile(dirPacks, id)
	if err != nil {
		rep.problem("%s: %v", rel, err)
		return bad(), nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		rep.problem("%s: %v", rel, err)
		return bad(), nil
	}
	frames, err := readSeekTable(f, st.Size())
	if err != nil {
		rep.problem("%s: %v", rel, err)
	}
	var list *packList
	if len(frames) > 0 {
		list, err = readPackList(f, id, frames)
		switch {
		case errors.Is(err, errNoPackList) && a.config.Version < format.PackListVersion:
		case err != nil:
			rep.problem("%s: %v", rel, err)
		default:
			// The chunks the list names are checked too: a repair
			// trusts them.
			seen := map[chunkAt]bool{}
			for _, l := range locs {
				seen[chunkAt{l.ID, l.FrameOffset}] = true
			}
			for _, l := range list.chunks {
				if !seen[chunkAt{l.ID, l.FrameOffset}] {
					locs = append(locs, l)
				}
			}
		}
	}
	// Decompress each frame the seek table lists and check the chunks in it.
	inFrame := map[int64][]format.ChunkLocation{}
	for _, l := range locs {
		inFrame[l.FrameOffset] = append(inFrame[l.FrameOffset], l)
	}
	var damaged []format.ID
	checked := map[int64]bool{}
	for _, fr := range frames {
		ls := inFrame[fr.off]
		checked[fr.off] = true
		if list != nil && fr.off == list.frame {
			continue
		}
		buf := make([]byte, fr.clen)
		if _, err := f.ReadAt(buf, fr.off); err != nil {
			rep.problem("%s: frame at %d: %v", rel, fr.off, err)
			damaged = append(damaged, ids(ls)...)
			continue
		}
		data, err := dec.DecodeAll(buf, nil)
		if err != nil || int64(len(data)) != fr.dlen {
			rep.problem("%s: frame at %d does not decompress to its %d bytes: %v", rel, fr.off, fr.dlen, err)
			damaged = append(damaged, ids(ls)...)
			continue
		}
		for _, l := range ls {
			if l.FrameLength != fr.clen || l.Offset+l.Length > int64(len(data)) || format.Sum(data[l.Offset:l.Offset+l.Length]) != l.ID {
				rep.problem("%s: chunk %s damaged", rel, l.ID)
				damaged = append(damaged, l.ID)
			}
		}
	}
	for off, ls := range inFrame {
		if !checked[off] {
			rep.problem("%s: the index places %d chunks in a frame at %d that the pack does not have", rel, len(ls), off)
			damaged = append(damaged, ids(ls)...)
		}
	}
	return damaged, list
}

type chunkAt struct {
	id  format.ID
	off int64
}

func ids(locs []format.ChunkLocation) []format.ID {
	out := make([]format.ID, len(locs))
	for i, l := range locs {
		out[i] = l.ID
	}
	return out
}

type frameSpan struct{ off, clen, dlen int64 }

// readSeekTable reads the pack's seek table and turns it into frame offsets.
func readSeekTable(f *os.File, size int64) ([]frameSpan, error) {
	if size < format.SeekFooterSize {
		return nil, fmt.Errorf("%d bytes: too short for a pack (truncated)", size)
	}
	footer := make([]byte, format.SeekFooterSize)
	if _, err := f.ReadAt(footer, size-format.SeekFooterSize); err != nil {
		return nil, err
	}
	n, err := format.SeekTableSize(footer)
	if err != nil {
		return nil, err
	}
	if n > size || n > 1<<30 {
		return nil, fmt.Errorf("seek table of %d bytes does not fit in a %d-byte pack (truncated)", n, size)
	}
	tab := make([]byte, n)
	if _, err := f.ReadAt(tab, size-n); err != nil {
		return nil, err
	}
	entries, err := format.DecodeSeekTable(tab)
	if err != nil {
		return nil, err
	}
	var out []frameSpan
	var off int64
	for _, e := range entries {
		out = append(out, frameSpan{off: off, clen: int64(e.CompressedSize), dlen: int64(e.DecompressedSize)})
		off += int64(e.CompressedSize)
	}
	if off != size-n {
		return out, fmt.Errorf("seek table lists %d bytes of frames, pack has %d", off, size-n)
	}
	return out, nil
}

// checkMessage returns why a message is damaged, or "" if it is intact.
func checkMessage(r *Reader, idx *Index, id format.ID, badChunks map[format.ID]bool) string {
	m, _ := idx.message(id)
	for _, c := range m.chunks {
		if !idx.hasChunk(c) {
			return fmt.Sprintf("chunk %s is in no index", c)
		}
		if badChunks[c] {
			return fmt.Sprintf("chunk %s is damaged or missing", c)
		}
	}
	if err := readThrough(r, id); err != nil {
		return err.Error()
	}
	return ""
}

// verifySnapshot checks one snapshot file and adds the messages it names to named.
func (a *Archive) verifySnapshot(id format.ID, idx *Index, badMsgs map[format.ID]string, all, named map[format.ID]bool, rep *VerifyReport) {
	rel := filepath.Join(dirSnapshots, id.String())
	if err := a.checkFileHash(dirSnapshots, id); err != nil {
		rep.problem("%s: %v", rel, err)
		return
	}
	h, err := a.snapshotHeader(id)
	if err != nil {
		rep.problem("%s: %v", rel, err)
		return
	}
	if h.Repaired != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: repaired from damaged snapshot %s; records past the damage are lost", rel, h.Repaired.From))
	}
	if h.Parent != nil && !all[*h.Parent] {
		rep.problem("%s: its parent snapshot %s (account %s) is missing", rel, h.Parent, format.QuoteName(h.Account))
	}
	err = a.ReadSnapshot(id, func(rec format.SnapshotRecord) error {
		m := rec.Message
		if m == nil {
			return nil
		}
		rep.Records++
		named[m.ID] = true
		acct, folder := format.QuoteName(h.Account), format.QuoteName(m.Folder)
		where := fmt.Sprintf("%s: account %s, folder %s, uid %d (message %s)", rel, acct, folder, m.UID, m.ID)
		if m.UIDL != "" {
			where = fmt.Sprintf("%s: account %s, folder %s, uidl %s (message %s)", rel, acct, folder, format.QuoteName(m.UIDL), m.ID)
		}
		size, ok := idx.MessageSize(m.ID)
		switch {
		case !ok:
			rep.problem("%s: not in any index (if an index file was lost or damaged, mailferry archive repair rebuilds it from the packs)", where)
		case size != m.Size:
			rep.problem("%s: record says %d bytes, index %d", where, m.Size, size)
		case badMsgs[m.ID] != "":
			rep.problem("%s: damaged", where)
		}
		return nil
	})
	if err != nil {
		rep.problem("%s: %v", rel, err)
	}
}

// countShared counts the archive's files and directories that users other
// than the owner may read or enter.
func (a *Archive) countShared() int {
	n := 0
	filepath.WalkDir(a.dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			n++
		}
		return nil
	})
	return n
}
