package archive

import "github.com/mailferry/mailferry/format"

// indexDeletionOrder orders the old index files prune deletes so that at
// every step each message a remaining file names still has every chunk
// located by some remaining file: a message record often names chunks that
// an older file locates (the writer deduplicated against it), and deleting
// that older file first would leave, until the end, a message verify
// reports as damaged. A file goes once no remaining file depends on it;
// chunks that keep (what the new files locate) holds depend on nothing.
// Should dependencies form a cycle, the rest go in any order.
func (a *Archive) indexDeletionOrder(old []format.ID, keep *Index) ([]format.ID, error) {
	provider := map[format.ID]int{} // chunk -> the first old file locating it
	msgChunks := make([][]format.ID, len(old))
	for i, id := range old {
		err := a.readIndexFile(id, func(rec format.IndexRecord) {
			switch {
			case rec.Chunk != nil:
				if _, ok := provider[rec.Chunk.ID]; !ok && !keep.hasChunk(rec.Chunk.ID) {
					provider[rec.Chunk.ID] = i
				}
			case rec.Message != nil:
				msgChunks[i] = append(msgChunks[i], rec.Message.Chunks...)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	deps := make([]map[int]bool, len(old)) // file -> the files it needs
	dependents := make([]int, len(old))
	for i, chunks := range msgChunks {
		for _, c := range chunks {
			p, ok := provider[c]
			if !ok || p == i || deps[i][p] {
				continue
			}
			if deps[i] == nil {
				deps[i] = map[int]bool{}
			}
			deps[i][p] = true
			dependents[p]++
		}
	}
	var order []format.ID
	done := make([]bool, len(old))
	var ready []int
	for i := range old {
		if dependents[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		done[i] = true
		order = append(order, old[i])
		for p := range deps[i] {
			if dependents[p]--; dependents[p] == 0 {
				ready = append(ready, p)
			}
		}
	}
	for i, id := range old {
		if !done[i] {
			order = append(order, id)
		}
	}
	return order, nil
}
