package archive

import (
	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// A frame of chunks on its way through compression into a pack.
type frameJob struct {
	kind   int // 0 header chunks, 1 body chunks
	raw    []byte
	chunks []frameChunk
	out    []byte
	done   chan struct{}
}

type frameChunk struct {
	id       format.ID
	off, len int64
}

// frameCap is the capacity of every frame buffer: room for a full frame,
// raw, or for its compressed form, which zstd may make slightly larger
// than the input when the input does not compress.
func frameCap(frameSize int) int { return frameSize + frameSize>>6 + 64<<10 }

// getBuffer returns an empty frame buffer; putBuffer gives one back once
// its frame is in a pack. Recycling them matters: at a MiB or more each,
// allocating them per frame made the garbage collector a tenth of an
// export's CPU.
func (w *Writer) getBuffer() []byte { return w.buffers.get()[:0] }

func (w *Writer) putBuffer(b []byte) {
	if cap(b) >= frameCap(w.opts.FrameSize) {
		w.buffers.put(b)
	}
}

func (w *Writer) newFrameJob(kind int) *frameJob {
	return &frameJob{kind: kind, raw: w.getBuffer(), done: make(chan struct{})}
}

// orderItem is what packLoop receives, in the order frames were sealed:
// either a frame to append, or a request to finish the pack.
type orderItem struct {
	job    *frameJob
	finish chan packResult
	msgs   []format.MessageChunks // with finish: the messages the pack's list names
}

type packResult struct {
	pack      format.ID
	locs      []format.ChunkLocation
	packBytes int64
	err       error
}

func (w *Writer) compressLoop(encs [2]*zstd.Encoder) {
	defer w.wg.Done()
	for j := range w.jobs {
		j.out = encs[j.kind].EncodeAll(j.raw, w.getBuffer())
		close(j.done)
	}
}

// packLoop appends compressed frames to the current pack file in the order
// they were sealed, and finishes the pack when asked. It is the only
// goroutine that touches pack files, so they need no lock.
func (w *Writer) packLoop() {
	defer w.wg.Done()
	var (
		tf    *tempFile
		seek  []format.SeekEntry
		locs  []format.ChunkLocation
		err   error
		start int64
	)
	for it := range w.order {
		if it.finish != nil {
			res := packResult{err: err}
			listed := w.a.config.Version >= format.PackListVersion
			if err == nil && tf == nil && listed && len(it.msgs) > 0 {
				// Messages whose chunks are all stored already still
				// need a pack to list them.
				tf, err = w.a.newTempFile()
				res.err = err
			}
			if err == nil && tf != nil {
				var id format.ID
				var tail []byte
				if listed {
					tail, err = format.AppendPackList(nil, locs, it.msgs)
					seek = append(seek, format.SeekEntry{CompressedSize: uint32(len(tail))})
				}
				if err == nil {
					tail = format.AppendSeekTable(tail, seek)
					if _, err = tf.Write(tail); err == nil {
						id, err = tf.commit(dirPacks)
					}
				}
				for i := range locs {
					locs[i].Pack = id
				}
				res = packResult{pack: id, locs: locs, packBytes: tf.n, err: err}
			}
			if tf != nil {
				tf.abort()
			}
			tf, seek, locs = nil, nil, nil
			it.finish <- res
			continue
		}
		j := it.job
		<-j.done
		if err != nil {
			continue
		}
		if tf == nil {
			if tf, err = w.a.newTempFile(); err != nil {
				continue
			}
		}
		start = tf.n
		if _, err = tf.Write(j.out); err != nil {
			continue
		}
		seek = append(seek, format.SeekEntry{CompressedSize: uint32(len(j.out)), DecompressedSize: uint32(len(j.raw))})
		for _, c := range j.chunks {
			locs = append(locs, format.ChunkLocation{ID: c.id, FrameOffset: start, FrameLength: int64(len(j.out)), Offset: c.off, Length: c.len})
		}
		w.putBuffer(j.raw)
		w.putBuffer(j.out)
		j.raw, j.out = nil, nil
	}
	if tf != nil {
		tf.abort()
	}
}
