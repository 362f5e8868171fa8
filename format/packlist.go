package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/zstd"
)

// A pack of format version 2 carries the list of what it holds, so that
// lost or damaged index files can be rebuilt from the packs alone: a zstd
// skippable frame, just before the seek table, whose content is a record
// file naming each chunk of the pack (where it lies, as in an index file,
// less the pack's own id, which the list cannot know) and each message
// indexed with the pack. zstd tools skip the frame.

// packListMagic is the skippable-frame magic number of a pack list; the
// seek table uses 0x184D2A5E.
const packListMagic = 0x184D2A5B

// SkippableHeaderSize is the size of a skippable frame's header: its magic
// number and the size of its content.
const SkippableHeaderSize = 8

// PackListVersion is the first format version whose packs carry a list.
const PackListVersion = 2

// packChunk is a chunk record of a pack list: a ChunkLocation without its pack.
type packChunk struct {
	ID          ID    `json:"id"`
	FrameOffset int64 `json:"frame_offset"`
	FrameLength int64 `json:"frame_length"`
	Offset      int64 `json:"offset"`
	Length      int64 `json:"length"`
}

// AppendPackList appends to b the skippable frame listing chunks (whose Pack
// fields are ignored) and msgs.
func AppendPackList(b []byte, chunks []ChunkLocation, msgs []MessageChunks) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	start := buf.Len()
	buf.Write(make([]byte, SkippableHeaderSize))
	// The fastest level: a list is written with every pack and read only
	// by a repair, and the index file beside it says the same.
	rw, err := newRecordWriterLevel(buf, zstd.SpeedFastest)
	if err != nil {
		return nil, err
	}
	if err := rw.write("pack", IndexHeader{Version: PackListVersion}); err != nil {
		return nil, err
	}
	for _, c := range chunks {
		if err := c.validateRange(); err != nil {
			return nil, err
		}
		if err := rw.write("chunk", packChunk{ID: c.ID, FrameOffset: c.FrameOffset, FrameLength: c.FrameLength, Offset: c.Offset, Length: c.Length}); err != nil {
			return nil, err
		}
	}
	for _, m := range msgs {
		if err := m.validate(); err != nil {
			return nil, err
		}
		if err := rw.write("message", m); err != nil {
			return nil, err
		}
	}
	if err := rw.close(); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	size := len(out) - start - SkippableHeaderSize
	if int64(size) > 1<<32-1 {
		return nil, errors.New("pack list over 4 GiB")
	}
	binary.LittleEndian.PutUint32(out[start:], packListMagic)
	binary.LittleEndian.PutUint32(out[start+4:], uint32(size))
	return out, nil
}

// PackListSize reads a skippable frame header and returns the size of the
// pack list that follows it, or false if the frame is not a pack list.
func PackListSize(hdr []byte) (int64, bool) {
	if len(hdr) < SkippableHeaderSize || binary.LittleEndian.Uint32(hdr) != packListMagic {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint32(hdr[4:])), true
}

// NewPackListDecoder reads the header of the pack list on r (the skippable
// frame's content, after its header).
func NewPackListDecoder(r io.Reader) (*IndexDecoder, error) {
	return newIndexDecoder(r, "pack list", "pack", true)
}
