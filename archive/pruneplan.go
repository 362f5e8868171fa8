package archive

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/mailferry/mailferry/format"
)

// neededMessages returns the messages the snapshots name (all but those of
// without), and how many snapshots it read. A snapshot that
// cannot be read, or that names a message no index holds, is damage that
// pruning could make permanent (repair may yet find the message in a pack
// that would be deleted): it refuses.
func (a *Archive) neededMessages(idx *Index, without map[format.ID]bool) (map[format.ID]bool, int, error) {
	snaps, problems, err := a.Snapshots()
	if err != nil {
		return nil, 0, err
	}
	if len(problems) > 0 {
		return nil, 0, fmt.Errorf("%w (%v)", ErrPruneDamaged, problems[0])
	}
	read := 0
	needed := map[format.ID]bool{}
	for _, s := range snaps {
		if without[s.ID] {
			continue
		}
		read++
		err := a.ReadSnapshot(s.ID, func(rec format.SnapshotRecord) error {
			if m := rec.Message; m != nil {
				if !idx.HasMessage(m.ID) {
					return fmt.Errorf("%w (snapshot %s names message %s, which no index holds)", ErrPruneDamaged, s.ID.Short(), m.ID)
				}
				needed[m.ID] = true
			}
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrPruneDamaged) {
				err = fmt.Errorf("%w (%v)", ErrPruneDamaged, err)
			}
			return nil, 0, err
		}
	}
	return needed, read, nil
}

// prunePlan is what Prune keeps, rewrites and deletes.
type prunePlan struct {
	keep     *Index // what stays in the kept packs: the new packs deduplicate against it
	keptLocs []format.ChunkLocation
	keptMsgs []format.MessageChunks
	rewrite  []format.ID // needed messages to write again
	drop     []format.ID // packs to delete once no index names them
	kept     int
	// rewritten counts the packs of drop that hold needed data.
	rewritten              int
	bytesBefore, bytesKept int64
}

// planPrune sorts the packs. A pack is kept when all it holds is needed:
// every chunk in it (by its list, else by the index) needed and indexed
// there, and every message its list names needed. Otherwise it goes, and
// the needed messages that lose their chunks or their pack list are written
// again. Keeping only wholly needed packs reclaims everything and leaves
// an index that says exactly what the packs list.
func (a *Archive) planPrune(idx *Index, needed map[format.ID]bool) (*prunePlan, error) {
	neededChunks := map[format.ID]bool{}
	for id := range needed {
		m, _ := idx.message(id)
		for _, c := range m.chunks {
			neededChunks[c] = true
		}
	}
	byPack := idx.byPack()
	packIDs, _, err := a.listFiles(dirPacks)
	if err != nil {
		return nil, err
	}
	p := &prunePlan{keep: newIndex()}
	listedKept := map[format.ID]bool{}
	listed := a.config.Version >= format.PackListVersion
	for _, pack := range packIDs {
		size := fileSize(filePath(a.dir, dirPacks, pack))
		p.bytesBefore += size
		locs := byPack[pack]
		var useful bool
		whole := true
		for _, l := range locs {
			useful = useful || neededChunks[l.ID]
			whole = whole && neededChunks[l.ID]
		}
		var list *packList
		if listed && whole {
			list, err = a.openPackList(pack)
			if err != nil && !errors.Is(err, errNoPackList) {
				return nil, fmt.Errorf("%w (pack %s: %v)", ErrPruneDamaged, pack.Short(), err)
			}
		}
		if list == nil {
			// Nothing but the index says what it holds: a pack it names
			// nothing in is a writer's leftover.
			whole = whole && len(locs) > 0
		} else {
			whole = len(list.chunks)+len(list.msgs) > 0
			for _, c := range list.chunks {
				l, ok := idx.chunk(c.ID)
				whole = whole && neededChunks[c.ID] && ok && l.Pack == pack
			}
			for _, m := range list.msgs {
				whole = whole && needed[m.ID]
			}
		}
		if !whole {
			p.drop = append(p.drop, pack)
			if useful {
				p.rewritten++
			}
			continue
		}
		p.kept++
		p.bytesKept += size
		for _, l := range locs {
			p.keep.addChunkLocked(l)
			p.keptLocs = append(p.keptLocs, l)
		}
		if list != nil {
			for _, m := range list.msgs {
				listedKept[m.ID] = true
			}
		}
	}
	// A needed message stays as it is when its chunks all stay and a kept
	// pack lists it (version 1 packs list nothing).
	ids := make([]format.ID, 0, len(needed))
	for id := range needed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	for _, id := range ids {
		m, _ := idx.message(id)
		stays := !listed || listedKept[id]
		for _, c := range m.chunks {
			stays = stays && p.keep.hasChunk(c)
		}
		if stays {
			mc := format.MessageChunks{ID: id, Size: m.size, Chunks: m.chunks}
			p.keep.addMessageLocked(mc)
			p.keptMsgs = append(p.keptMsgs, mc)
		} else {
			p.rewrite = append(p.rewrite, id)
		}
	}
	// Read them in the order they lie in the packs: the Reader keeps the
	// last frames it decompressed, and in id order every message would
	// cost a frame of its own (an 8-fold slower prune, measured).
	keys := make(map[format.ID]string, len(p.rewrite))
	for _, id := range p.rewrite {
		keys[id] = idx.storageOrder(id)
	}
	sort.SliceStable(p.rewrite, func(i, j int) bool { return keys[p.rewrite[i]] < keys[p.rewrite[j]] })
	return p, nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
