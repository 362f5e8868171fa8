package archive

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// WriterOptions tune how a Writer groups and compresses chunks. The zero
// value gives the defaults, which bench/ measured (see the issue notes).
type WriterOptions struct {
	// FrameSize is the decompressed size a zstd frame is filled to: larger
	// frames compress better, smaller ones make reading one message cheaper.
	FrameSize int
	// PackSize is the decompressed bytes after which a pack is finished and
	// indexed even without a Flush.
	PackSize int64
	// Level is the zstd level of body frames, HeaderLevel that of header
	// frames (default: Level). Measured on bench/corpusgen mail, the "best"
	// level on headers saved nothing over "better" and cost 13% speed.
	Level, HeaderLevel zstd.EncoderLevel
	// Workers is how many frames are compressed at once.
	Workers int

	// unlocked: the caller holds the archive's exclusive lock (prune).
	unlocked bool
}

func (o *WriterOptions) defaults() {
	if o.FrameSize <= 0 {
		o.FrameSize = 4 << 20
	}
	if o.FrameSize > format.MaxFrameSize/2 {
		o.FrameSize = format.MaxFrameSize / 2
	}
	if o.PackSize <= 0 {
		o.PackSize = 128 << 20
	}
	if o.Level == 0 {
		o.Level = zstd.SpeedBetterCompression
	}
	if o.HeaderLevel == 0 {
		o.HeaderLevel = o.Level
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
}

// WriterStats counts what a Writer did.
type WriterStats struct {
	Messages, NewMessages int64 // messages put; of those, not stored before
	RawBytes              int64 // bytes of all messages put
	NewChunks             int64
	NewChunkBytes         int64 // decompressed bytes written into packs
	PackBytes             int64 // compressed bytes of finished packs
	Packs, IndexFiles     int64
}

// Writer stores messages into an archive. Put may be called from several
// goroutines at once. A message is durable once a later Flush (or Close) has
// returned nil; until then a crash may lose it.
type Writer struct {
	a    *Archive
	idx  *Index
	opts WriterOptions

	splitters *freeList[*splitter]
	buffers   *freeList[[]byte] // frame buffers, raw and compressed

	mu        sync.Mutex
	err       error // sticky: a writer that failed stays failed
	closed    bool
	newChunks map[format.ID]bool // written into frames, not yet indexed
	newMsgs   map[format.ID]bool
	msgs      []format.MessageChunks // waiting for the next index file
	// frames being filled: header chunks and body chunks apart, since
	// headers compress far better beside other headers than beside bodies.
	frames   [2]*frameJob
	rawSince int64 // decompressed bytes sealed since the last pack
	stats    WriterStats

	jobs  chan *frameJob
	order chan orderItem
	wg    sync.WaitGroup

	lock  *Lock       // shared, so that no prune runs meanwhile
	wrote []format.ID // the packs and index files stored, for prune
}

// NewWriter returns a Writer that deduplicates against idx (which the Writer
// updates as it indexes new data). Close it when done.
func (a *Archive) NewWriter(idx *Index, opts WriterOptions) (*Writer, error) {
	if err := a.prepareWrite(); err != nil {
		return nil, err
	}
	var lock *Lock
	if !opts.unlocked {
		var err error
		if lock, err = a.Lock(false, "a writer"); err != nil {
			return nil, err
		}
		// A prune that ran between loading idx and this lock deleted
		// index files idx read, and maybe the data they named: a Writer
		// deduplicating against them would name messages no longer there.
		if a.indexFilesGone(idx) {
			idx.reset()
			if _, err := a.LoadIndex(idx); err != nil {
				lock.Unlock()
				return nil, err
			}
		}
	}
	opts.defaults()
	w := &Writer{
		a: a, idx: idx, opts: opts, lock: lock,
		newChunks: map[format.ID]bool{},
		newMsgs:   map[format.ID]bool{},
		jobs:      make(chan *frameJob, opts.Workers),
		order:     make(chan orderItem, opts.Workers),
	}
	// Idle splitters for as many messages as are usually put at once;
	// idle frame buffers for the frames being filled, compressed and
	// written (frames in flight are bounded by the channels above).
	w.splitters = newFreeList(2*opts.Workers+2, newSplitter)
	w.buffers = newFreeList(2*opts.Workers+2, func() []byte { return make([]byte, 0, frameCap(opts.FrameSize)) })
	for range opts.Workers {
		var encs [2]*zstd.Encoder
		for kind, level := range []zstd.EncoderLevel{opts.HeaderLevel, opts.Level} {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true),
				zstd.WithWindowSize(frameWindow(opts.FrameSize)))
			if err != nil {
				lock.Unlock()
				return nil, err
			}
			encs[kind] = enc
		}
		w.wg.Add(1)
		go w.compressLoop(encs)
	}
	w.wg.Add(1)
	go w.packLoop()
	return w, nil
}

// frameWindow is the zstd window for frames of frameSize: a frame is
// compressed on its own, so a window past its size finds no more matches,
// yet each encoder keeps a history buffer as large as its window. With
// the default (8 MiB) the four encoders of an export held 34 MB, and the
// heap sat at the memory limit, collecting without pause.
func frameWindow(frameSize int) int {
	w := 1 << bits.Len(uint(frameSize-1))
	return min(max(w, zstd.MinWindowSize), zstd.MaxWindowSize)
}

// Put reads a message to its end, stores any of its chunks the archive lacks,
// and returns the message's id and size.
func (w *Writer) Put(r io.Reader) (format.ID, int64, error) {
	sp := w.splitters.get()
	defer w.splitters.put(sp)
	h := sha256.New()
	var chunks []format.ID
	var size int64
	var writeErr error
	err := sp.split(r, func(b []byte) error {
		h.Write(b)
		size += int64(len(b))
		// No reader would accept the message's index record: refuse it
		// before reading more (its chunks stored so far are harmless).
		if size > format.MaxMessageSize || len(chunks) == format.MaxMessageChunks {
			return format.ErrTooLarge
		}
		id := format.Sum(b)
		chunks = append(chunks, id)
		writeErr = w.addChunk(id, b, len(chunks) == 1 && sp.isHeader)
		return writeErr
	})
	if err != nil && err == writeErr {
		return format.ID{}, 0, err
	}
	if err != nil {
		return format.ID{}, 0, &SourceError{Err: err}
	}
	var id format.ID
	copy(id[:], h.Sum(nil))
	return id, size, w.addMessage(id, size, chunks)
}

// SourceError is an error reading the message handed to Put: the source's
// fault, not the archive's, so the Writer stays usable.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "read message: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// Has reports whether the message is stored or put through this Writer.
func (w *Writer) Has(id format.ID) bool {
	w.mu.Lock()
	pending := w.newMsgs[id]
	w.mu.Unlock()
	return pending || w.idx.HasMessage(id)
}

func (w *Writer) addChunk(id format.ID, b []byte, header bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	if w.newChunks[id] || w.idx.hasChunk(id) {
		return nil
	}
	kind := 1
	if header {
		kind = 0
	}
	f := w.frames[kind]
	if f != nil && len(f.raw)+len(b) > w.opts.FrameSize {
		w.sealLocked(kind)
		f = nil
	}
	if f == nil {
		f = w.newFrameJob(kind)
		w.frames[kind] = f
	}
	f.chunks = append(f.chunks, frameChunk{id: id, off: int64(len(f.raw)), len: int64(len(b))})
	f.raw = append(f.raw, b...)
	w.newChunks[id] = true
	w.stats.NewChunks++
	w.stats.NewChunkBytes += int64(len(b))
	return nil
}

func (w *Writer) addMessage(id format.ID, size int64, chunks []format.ID) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	w.stats.Messages++
	w.stats.RawBytes += size
	if w.newMsgs[id] || w.idx.HasMessage(id) {
		return nil
	}
	w.newMsgs[id] = true
	w.stats.NewMessages++
	w.msgs = append(w.msgs, format.MessageChunks{ID: id, Size: size, Chunks: chunks})
	if w.rawSince >= w.opts.PackSize {
		return w.flushLocked()
	}
	return nil
}

func (w *Writer) usableLocked() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("archive writer is closed")
	}
	return nil
}

// sealLocked hands an open frame to the compressors.
func (w *Writer) sealLocked(kind int) {
	j := w.frames[kind]
	w.frames[kind] = nil
	w.rawSince += int64(len(j.raw))
	w.order <- orderItem{job: j}
	w.jobs <- j
}

// Flush makes every message put so far durable: it finishes the open pack
// and writes the index file that names its chunks and messages.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return err
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	for kind, f := range w.frames {
		if f != nil && len(f.raw) > 0 {
			w.sealLocked(kind)
		}
	}
	w.rawSince = 0
	reply := make(chan packResult)
	w.order <- orderItem{finish: reply, msgs: w.msgs}
	res := <-reply
	if res.err != nil {
		w.err = fmt.Errorf("archive writer: %w", res.err)
		return w.err
	}
	if res.packBytes > 0 {
		w.stats.Packs++
		w.stats.PackBytes += res.packBytes
		w.wrote = append(w.wrote, res.pack)
	}
	if len(res.locs) == 0 && len(w.msgs) == 0 {
		return nil
	}
	id, err := w.a.writeIndex(res.locs, w.msgs)
	if err != nil {
		w.err = fmt.Errorf("archive writer: %w", err)
		return w.err
	}
	w.wrote = append(w.wrote, id)
	w.stats.IndexFiles++
	w.idx.mu.Lock()
	for _, c := range res.locs {
		w.idx.addChunkLocked(c)
		delete(w.newChunks, c.ID)
	}
	for _, m := range w.msgs {
		w.idx.addMessageLocked(m)
		delete(w.newMsgs, m.ID)
	}
	w.idx.mu.Unlock()
	w.msgs = nil
	return nil
}

// writeIndex stores an index file naming locs and msgs, of the archive's
// format version.
func (a *Archive) writeIndex(locs []format.ChunkLocation, msgs []format.MessageChunks) (format.ID, error) {
	tf, err := a.newTempFile()
	if err != nil {
		return format.ID{}, err
	}
	defer tf.abort()
	enc, err := format.NewIndexEncoder(tf, a.config.Version)
	if err != nil {
		return format.ID{}, err
	}
	for _, c := range locs {
		if err := enc.Chunk(c); err != nil {
			return format.ID{}, err
		}
	}
	for _, m := range msgs {
		if err := enc.Message(m); err != nil {
			return format.ID{}, err
		}
	}
	if err := enc.Close(); err != nil {
		return format.ID{}, err
	}
	return tf.commit(dirIndex)
}

// Close flushes and stops the Writer's goroutines.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return w.err
	}
	var err error
	if w.err == nil {
		err = w.flushLocked()
	}
	w.closed = true
	close(w.order)
	close(w.jobs)
	w.mu.Unlock()
	w.wg.Wait()
	w.lock.Unlock()
	if err != nil {
		return err
	}
	return w.err
}

// Stats returns what the Writer has done so far.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
