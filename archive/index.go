package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/mailferry/mailferry/format"
)

// chunkLoc is a ChunkLocation kept compactly in memory: an archive of a few
// million chunks must fit comfortably.
type chunkLoc struct {
	pack     uint32 // index into Index.packs
	frameLen uint32
	frameOff int64
	off      uint32
	len      uint32
}

type msgEntry struct {
	size   int64
	chunks []format.ID
}

// Index is the merged content of an archive's index files: where each chunk
// lies and which chunks make each message.
type Index struct {
	mu       sync.RWMutex
	packs    []format.ID
	packNum  map[format.ID]uint32
	chunks   map[format.ID]chunkLoc
	messages map[format.ID]msgEntry
	loaded   map[format.ID]bool // index files merged so far
	// byHeader finds messages by header chunk and size; built on first use.
	byHeader map[headerKey]format.ID
}

func newIndex() *Index {
	return &Index{
		packNum:  map[format.ID]uint32{},
		chunks:   map[format.ID]chunkLoc{},
		messages: map[format.ID]msgEntry{},
		loaded:   map[format.ID]bool{},
	}
}

// IndexProblem is an index file that could not be read.
type IndexProblem struct {
	File format.ID
	Err  error
}

func (p IndexProblem) Error() string { return fmt.Sprintf("index %s: %v", p.File, p.Err) }

// LoadIndex reads every index file not read yet and merges it. A damaged
// index file is skipped and returned as an IndexProblem, so that what the
// other files say stays usable; a newer format version stops the load.
func (a *Archive) LoadIndex(idx *Index) ([]IndexProblem, error) {
	ids, _, err := a.listFiles(dirIndex)
	if err != nil {
		return nil, err
	}
	var problems []IndexProblem
	for _, id := range ids {
		idx.mu.RLock()
		done := idx.loaded[id]
		idx.mu.RUnlock()
		if done {
			continue
		}
		if err := a.loadIndexFile(idx, id); err != nil {
			if errors.Is(err, format.ErrNewerVersion) {
				return problems, fmt.Errorf("index %s: %w", id, err)
			}
			problems = append(problems, IndexProblem{File: id, Err: err})
		}
	}
	return problems, nil
}

// storageOrder is a key that sorts messages by where their first chunk
// lies: pack, frame, place in the frame (that is, the order written).
func (idx *Index) storageOrder(id format.ID) string {
	m, ok := idx.message(id)
	if !ok || len(m.chunks) == 0 {
		return ""
	}
	l, _ := idx.chunk(m.chunks[0])
	return fmt.Sprintf("%s%016x%08x", l.Pack, l.FrameOffset, l.Offset)
}

// indexFilesGone reports whether an index file idx merged is gone.
func (a *Archive) indexFilesGone(idx *Index) bool {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	for id := range idx.loaded {
		if _, err := os.Stat(filePath(a.dir, dirIndex, id)); errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// reset empties idx, for loading afresh.
func (idx *Index) reset() {
	fresh := newIndex()
	idx.mu.Lock()
	defer idx.mu.Unlock()
	idx.packs, idx.packNum, idx.chunks, idx.messages, idx.loaded, idx.byHeader = nil, fresh.packNum, fresh.chunks, fresh.messages, fresh.loaded, nil
}

// Index reads the archive's index files; damaged ones are skipped and reported.
func (a *Archive) Index() (*Index, []IndexProblem, error) {
	idx := newIndex()
	problems, err := a.LoadIndex(idx)
	return idx, problems, err
}

func (a *Archive) loadIndexFile(idx *Index, id format.ID) error {
	// Collect first and merge after, so a file damaged halfway adds nothing.
	var chunks []format.ChunkLocation
	var msgs []format.MessageChunks
	err := a.readIndexFile(id, func(rec format.IndexRecord) {
		if rec.Chunk != nil {
			chunks = append(chunks, *rec.Chunk)
		} else {
			msgs = append(msgs, *rec.Message)
		}
	})
	if err != nil {
		return err
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for _, c := range chunks {
		idx.addChunkLocked(c)
	}
	for _, m := range msgs {
		idx.addMessageLocked(m)
	}
	idx.loaded[id] = true
	return nil
}

func (idx *Index) addChunkLocked(c format.ChunkLocation) {
	n, ok := idx.packNum[c.Pack]
	if !ok {
		n = uint32(len(idx.packs))
		idx.packs = append(idx.packs, c.Pack)
		idx.packNum[c.Pack] = n
	}
	idx.chunks[c.ID] = chunkLoc{pack: n, frameOff: c.FrameOffset, frameLen: uint32(c.FrameLength), off: uint32(c.Offset), len: uint32(c.Length)}
}

func (idx *Index) addMessageLocked(m format.MessageChunks) {
	idx.messages[m.ID] = msgEntry{size: m.Size, chunks: m.Chunks}
	if idx.byHeader != nil && len(m.Chunks) > 0 {
		idx.byHeader[headerKey{m.Chunks[0], m.Size}] = m.ID
	}
}

// HasMessage reports whether the archive holds the message with that id.
func (idx *Index) HasMessage(id format.ID) bool {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	_, ok := idx.messages[id]
	return ok
}

// MessageSize returns a stored message's size.
func (idx *Index) MessageSize(id format.ID) (int64, bool) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	m, ok := idx.messages[id]
	return m.size, ok
}

func (idx *Index) hasChunk(id format.ID) bool {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	_, ok := idx.chunks[id]
	return ok
}

func (idx *Index) chunk(id format.ID) (format.ChunkLocation, bool) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	l, ok := idx.chunks[id]
	if !ok {
		return format.ChunkLocation{}, false
	}
	return idx.locationLocked(id, l), true
}

func (idx *Index) locationLocked(id format.ID, l chunkLoc) format.ChunkLocation {
	return format.ChunkLocation{ID: id, Pack: idx.packs[l.pack], FrameOffset: l.frameOff,
		FrameLength: int64(l.frameLen), Offset: int64(l.off), Length: int64(l.len)}
}

// readIndexFile calls fn for each record of an index file, up to the
// damage of a damaged one (whose error it then returns).
func (a *Archive) readIndexFile(id format.ID, fn func(format.IndexRecord)) error {
	f, err := a.openFile(dirIndex, id)
	if err != nil {
		return err
	}
	defer f.Close()
	dec, err := format.NewIndexDecoder(f)
	if err != nil {
		return err
	}
	defer dec.Close()
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fn(rec)
	}
}

// byPack returns the chunk locations the index knows, by pack.
func (idx *Index) byPack() map[format.ID][]format.ChunkLocation {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	out := map[format.ID][]format.ChunkLocation{}
	for id, l := range idx.chunks {
		loc := idx.locationLocked(id, l)
		out[loc.Pack] = append(out[loc.Pack], loc)
	}
	return out
}

func (idx *Index) message(id format.ID) (msgEntry, bool) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	m, ok := idx.messages[id]
	return m, ok
}

// Counts returns how many chunks and messages the index knows, and the raw
// bytes of each.
func (idx *Index) Counts() (chunks int, chunkBytes int64, messages int, messageBytes int64) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	for _, c := range idx.chunks {
		chunkBytes += int64(c.len)
	}
	for _, m := range idx.messages {
		messageBytes += m.size
	}
	return len(idx.chunks), chunkBytes, len(idx.messages), messageBytes
}

// FindByHeader returns a stored message of the given size whose first
// chunk is headerChunk, the SHA-256 of its header section. A message seen
// again under a new UIDVALIDITY is recognised this way from its header
// alone, without downloading its body again.
func (idx *Index) FindByHeader(headerChunk format.ID, size int64) (format.ID, bool) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if idx.byHeader == nil {
		idx.byHeader = map[headerKey]format.ID{}
		for id, m := range idx.messages {
			if len(m.chunks) > 0 {
				idx.byHeader[headerKey{m.chunks[0], m.size}] = id
			}
		}
	}
	id, ok := idx.byHeader[headerKey{headerChunk, size}]
	return id, ok
}

type headerKey struct {
	chunk format.ID
	size  int64
}

// MessagesWithPrefix returns the ids of the messages whose hexadecimal id
// starts with prefix, at most limit of them: a unique prefix names one
// message, as git's short hashes name commits.
func (idx *Index) MessagesWithPrefix(prefix string, limit int) []format.ID {
	prefix = strings.ToLower(prefix)
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	var out []format.ID
	for id := range idx.messages {
		if strings.HasPrefix(id.String(), prefix) {
			out = append(out, id)
			if len(out) >= limit {
				break
			}
		}
	}
	return out
}
