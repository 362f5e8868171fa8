package archive

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// ErrNotFound means the archive's index has no message with that id.
var ErrNotFound = errors.New("message not in archive")

// ErrCorrupt means stored bytes do not match the hash that names them.
var ErrCorrupt = errors.New("archive data corrupt")

// Reader reads messages back out of an archive. It keeps the last frames it
// decompressed, since neighbouring chunks usually share a frame. It is safe
// for concurrent use.
type Reader struct {
	a   *Archive
	idx *Index
	dec *zstd.Decoder

	mu     sync.Mutex
	frames []cachedFrame // most recent last
	files  map[format.ID]packFile
}

type packFile struct {
	f    *os.File
	size int64
}

type cachedFrame struct {
	pack format.ID
	off  int64
	data []byte
}

const (
	cachedFrames = 4
	openPacks    = 32
)

// NewReader returns a Reader over the chunks and messages idx knows.
func (a *Archive) NewReader(idx *Index) (*Reader, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(2*format.MaxFrameSize))
	if err != nil {
		return nil, err
	}
	return &Reader{a: a, idx: idx, dec: dec, files: map[format.ID]packFile{}}, nil
}

// Close releases open pack files.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, f := range r.files {
		f.f.Close()
		delete(r.files, id)
	}
	r.dec.Close()
	return nil
}

// Open returns the message's exact bytes and its size. Every chunk is checked
// against its hash before it is handed out, and the whole message against its
// id at the end: damage gives an error wrapping ErrCorrupt, never wrong bytes
// silently.
func (r *Reader) Open(id format.ID) (io.ReadCloser, int64, error) {
	m, ok := r.idx.message(id)
	if !ok {
		return nil, 0, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	// The index must add up before any frame is read: a crafted index
	// listing a chunk many times over costs lookups here, not reads.
	var sum int64
	for _, c := range m.chunks {
		l, ok := r.idx.chunk(c)
		if !ok {
			return nil, 0, fmt.Errorf("message %s: chunk %s is in no index", id, c)
		}
		sum += l.Length
	}
	if sum != m.size {
		return nil, 0, fmt.Errorf("message %s: its chunks add up to %d bytes, the index says %d: %w", id, sum, m.size, ErrCorrupt)
	}
	return &messageReader{r: r, id: id, entry: m, h: sha256.New()}, m.size, nil
}

// Chunk returns one chunk's bytes after checking them against its id.
func (r *Reader) Chunk(id format.ID) ([]byte, error) {
	loc, ok := r.idx.chunk(id)
	if !ok {
		return nil, fmt.Errorf("chunk %s: not in any index", id)
	}
	frame, err := r.frame(loc.Pack, loc.FrameOffset, loc.FrameLength)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id, err)
	}
	if loc.Offset+loc.Length > int64(len(frame)) {
		return nil, fmt.Errorf("chunk %s: lies past the end of its frame in pack %s: %w", id, loc.Pack, ErrCorrupt)
	}
	b := frame[loc.Offset : loc.Offset+loc.Length]
	if format.Sum(b) != id {
		return nil, fmt.Errorf("chunk %s in pack %s: bytes do not match their hash: %w", id, loc.Pack, ErrCorrupt)
	}
	return b, nil
}

// frame returns a frame's decompressed bytes; callers must not modify them.
func (r *Reader) frame(pack format.ID, off, n int64) ([]byte, error) {
	r.mu.Lock()
	for i := len(r.frames) - 1; i >= 0; i-- {
		if f := r.frames[i]; f.pack == pack && f.off == off {
			r.mu.Unlock()
			return f.data, nil
		}
	}
	pf, err := r.packFileLocked(pack)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if off+n > pf.size {
		return nil, fmt.Errorf("frame %d+%d lies past the end of pack %s (%d bytes; truncated?): %w", off, n, pack, pf.size, ErrCorrupt)
	}
	buf := make([]byte, n)
	if _, err := pf.f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("read pack %s at %d: %w (pack truncated?)", pack, off, err)
	}
	data, err := r.dec.DecodeAll(buf, nil)
	if err != nil {
		return nil, fmt.Errorf("decompress frame at %d of pack %s: %v: %w", off, pack, err, ErrCorrupt)
	}
	r.mu.Lock()
	r.frames = append(r.frames, cachedFrame{pack: pack, off: off, data: data})
	if len(r.frames) > cachedFrames {
		r.frames = r.frames[1:]
	}
	r.mu.Unlock()
	return data, nil
}

func (r *Reader) packFileLocked(pack format.ID) (packFile, error) {
	if f, ok := r.files[pack]; ok {
		return f, nil
	}
	if len(r.files) >= openPacks {
		for id, f := range r.files {
			f.f.Close()
			delete(r.files, id)
			break
		}
	}
	f, err := r.a.openFile(dirPacks, pack)
	if err != nil {
		return packFile{}, fmt.Errorf("pack %s: %w", pack, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return packFile{}, fmt.Errorf("pack %s: %w", pack, err)
	}
	pf := packFile{f: f, size: st.Size()}
	r.files[pack] = pf
	return pf, nil
}

type messageReader struct {
	r     *Reader
	id    format.ID
	entry msgEntry
	next  int
	cur   []byte
	h     hash.Hash
	n     int64
	err   error
}

func (m *messageReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	for len(m.cur) == 0 {
		if m.next == len(m.entry.chunks) {
			m.err = m.finish()
			return 0, m.err
		}
		b, err := m.r.Chunk(m.entry.chunks[m.next])
		if err != nil {
			m.err = fmt.Errorf("message %s: %w", m.id, err)
			return 0, m.err
		}
		m.next++
		m.cur = b
	}
	n := copy(p, m.cur)
	m.cur = m.cur[n:]
	m.h.Write(p[:n])
	m.n += int64(n)
	return n, nil
}

func (m *messageReader) finish() error {
	if m.n != m.entry.size {
		return fmt.Errorf("message %s: read %d bytes, index says %d: %w", m.id, m.n, m.entry.size, ErrCorrupt)
	}
	var got format.ID
	copy(got[:], m.h.Sum(nil))
	if got != m.id {
		return fmt.Errorf("message %s: chunks hash to %s: %w", m.id, got, ErrCorrupt)
	}
	return io.EOF
}

func (m *messageReader) Close() error { return nil }

// OpenReader loads the index and returns a Reader on it: what a command
// that only reads messages needs. The index files that could not be read
// come back as problems; their messages are not found.
func (a *Archive) OpenReader() (*Reader, []IndexProblem, error) {
	idx, problems, err := a.Index()
	if err != nil {
		return nil, problems, err
	}
	r, err := a.NewReader(idx)
	return r, problems, err
}

// Header returns a message's first chunk: its header section up to and
// including the empty line that ends it (cut at the header chunk's limit),
// checked against its hash, without reading the body.
func (r *Reader) Header(id format.ID) ([]byte, error) {
	m, ok := r.idx.message(id)
	if !ok {
		return nil, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	if len(m.chunks) == 0 {
		return nil, nil
	}
	return r.Chunk(m.chunks[0])
}

// readThrough reads a message to its end, which checks every chunk and the
// whole against their ids.
func readThrough(r *Reader, id format.ID) error {
	rc, _, err := r.Open(id)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}
