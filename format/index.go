package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ChunkLocation says where a chunk's bytes lie: in a zstd frame of a pack.
type ChunkLocation struct {
	ID   ID `json:"id"`
	Pack ID `json:"pack"`
	// FrameOffset and FrameLength locate the compressed frame in the pack file.
	FrameOffset int64 `json:"frame_offset"`
	FrameLength int64 `json:"frame_length"`
	// Offset and Length locate the chunk in the frame's decompressed bytes.
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// MessageChunks says how a message is stored: its bytes are its chunks'
// bytes, concatenated in order.
type MessageChunks struct {
	ID     ID    `json:"id"`
	Size   int64 `json:"size"`
	Chunks []ID  `json:"chunks"`
}

// IndexHeader is the first record of an index file.
type IndexHeader struct {
	Version int `json:"version"`
}

// IndexRecord is a chunk location or a message's chunk list; one is set.
type IndexRecord struct {
	Chunk   *ChunkLocation
	Message *MessageChunks
}

// IndexEncoder writes an index file.
type IndexEncoder struct{ rw *recordWriter }

// NewIndexEncoder starts an index file of format version (0: Version) on w.
func NewIndexEncoder(w io.Writer, version int) (*IndexEncoder, error) {
	version, err := writeVersion("index", version)
	if err != nil {
		return nil, err
	}
	rw, err := newRecordWriter(w)
	if err != nil {
		return nil, err
	}
	if err := rw.write("index", IndexHeader{Version: version}); err != nil {
		return nil, err
	}
	return &IndexEncoder{rw: rw}, nil
}

// Chunk records where a chunk is stored.
func (e *IndexEncoder) Chunk(c ChunkLocation) error {
	if err := c.validate(); err != nil {
		return err
	}
	return e.rw.write("chunk", c)
}

// Message records a message's chunk list.
func (e *IndexEncoder) Message(m MessageChunks) error {
	if err := m.validate(); err != nil {
		return err
	}
	return e.rw.write("message", m)
}

// Close writes the end record and finishes the stream.
func (e *IndexEncoder) Close() error { return e.rw.close() }

// IndexDecoder reads an index file, or a pack list (the same records, but
// chunk records without their pack), record by record.
type IndexDecoder struct {
	rr     *recordReader
	what   string // "index" or "pack list", for errors
	inPack bool   // a pack list: chunk records name no pack
}

// NewIndexDecoder reads the header of the index file on r, refusing a newer
// format version with a *VersionError.
func NewIndexDecoder(r io.Reader) (*IndexDecoder, error) {
	return newIndexDecoder(r, "index", "index", false)
}

func newIndexDecoder(r io.Reader, what, header string, inPack bool) (*IndexDecoder, error) {
	var h IndexHeader
	rr, err := openRecordFile(r, what, header, &h)
	if err != nil {
		return nil, err
	}
	return &IndexDecoder{rr: rr, what: what, inPack: inPack}, nil
}

// Next returns the next record, or io.EOF after the last. Chunk records of
// a pack list come back with a zero Pack: the caller knows which pack it read.
func (d *IndexDecoder) Next() (IndexRecord, error) {
	kind, raw, err := d.rr.next()
	if err != nil {
		return IndexRecord{}, err
	}
	switch kind {
	case "chunk":
		c := new(ChunkLocation)
		if err := json.Unmarshal(raw, c); err != nil {
			return IndexRecord{}, fmt.Errorf("%s chunk record: %w", d.what, err)
		}
		if d.inPack {
			c.Pack, err = ID{}, c.validateRange()
		} else {
			err = c.validate()
		}
		if err != nil {
			return IndexRecord{}, fmt.Errorf("%s chunk record: %w", d.what, err)
		}
		return IndexRecord{Chunk: c}, nil
	case "message":
		m, err := decodeMessageChunks(raw, d.what)
		return IndexRecord{Message: m}, err
	}
	return IndexRecord{}, fmt.Errorf("%s: unknown record kind %q", d.what, kind)
}

// Close releases the decoder.
func (d *IndexDecoder) Close() { d.rr.close() }

// Limits readers enforce, so that a crafted or damaged file cannot make
// them work or allocate without bound; writers refuse to go past them.
const (
	// MaxFrameSize bounds a frame's decompressed size.
	MaxFrameSize = 64 << 20
	// MaxMessageSize bounds a message. Mail servers refuse messages far
	// smaller (Gmail 35 MB, Exchange 150 MB at most).
	MaxMessageSize = 1 << 31
	// MaxMessageChunks bounds a message's chunk list: a message of
	// MaxMessageSize cut into chunks of the writers' minimum body chunk
	// (32 KiB) has 65,537 at most, its header chunk included.
	MaxMessageChunks = 1 << 17
)

// ErrTooLarge means a message is larger than MaxMessageSize.
var ErrTooLarge = fmt.Errorf("message larger than the archive's limit of %d bytes", MaxMessageSize)

func (c *ChunkLocation) validate() error {
	if c.Pack.IsZero() {
		return errors.New("chunk location lacks a pack")
	}
	return c.validateRange()
}

// validateRange checks a location but for its pack, which a pack list omits.
func (c *ChunkLocation) validateRange() error {
	switch {
	case c.ID.IsZero():
		return errors.New("chunk location lacks an id")
	case c.Length == 0:
		return fmt.Errorf("chunk %s: empty", c.ID.Short())
	case c.FrameOffset < 0 || c.FrameLength <= 0 || c.FrameLength > 2*MaxFrameSize:
		return fmt.Errorf("chunk %s: bad frame %d+%d", c.ID.Short(), c.FrameOffset, c.FrameLength)
	case c.Offset < 0 || c.Length < 0 || c.Offset+c.Length > MaxFrameSize:
		return fmt.Errorf("chunk %s: bad range %d+%d", c.ID.Short(), c.Offset, c.Length)
	}
	return nil
}

func (m *MessageChunks) validate() error {
	if m.ID.IsZero() {
		return errors.New("message entry has no id")
	}
	switch {
	case m.Size < 0:
		return fmt.Errorf("message %s: negative size", m.ID.Short())
	case m.Size > MaxMessageSize:
		return fmt.Errorf("message %s: %d bytes: %w", m.ID.Short(), m.Size, ErrTooLarge)
	case len(m.Chunks) > MaxMessageChunks:
		return fmt.Errorf("message %s: %d chunks, over the limit of %d", m.ID.Short(), len(m.Chunks), MaxMessageChunks)
	case len(m.Chunks) == 0 && m.Size > 0:
		return fmt.Errorf("message %s: no chunks for %d bytes", m.ID.Short(), m.Size)
	case int64(len(m.Chunks)) > m.Size:
		// Every chunk holds at least one byte.
		return fmt.Errorf("message %s: %d chunks for %d bytes", m.ID.Short(), len(m.Chunks), m.Size)
	}
	return nil
}

// decodeMessageChunks decodes and checks the message record of an index
// file or pack list.
func decodeMessageChunks(raw json.RawMessage, what string) (*MessageChunks, error) {
	m := new(MessageChunks)
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%s message record: %w", what, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s message record: %w", what, err)
	}
	return m, nil
}
