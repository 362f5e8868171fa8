package format

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A pack file is in the zstd seekable format: zstd frames followed by a
// skippable frame holding the seek table, so any zstd tool decompresses it
// and a reader can jump to any frame.

const (
	skippableMagic = 0x184D2A5E
	seekableMagic  = 0x8F92EAB1
	// SeekFooterSize is the size of the seek table's footer.
	SeekFooterSize = 9
	seekEntrySize  = 8
	seekHeaderSize = 8
)

// SeekEntry is one frame in a seek table.
type SeekEntry struct {
	CompressedSize   uint32
	DecompressedSize uint32
}

// AppendSeekTable appends the skippable frame holding entries to b.
// mailferry writes no per-frame checksums: every frame carries zstd's own
// content checksum, and chunks are checked by SHA-256.
func AppendSeekTable(b []byte, entries []SeekEntry) []byte {
	size := len(entries)*seekEntrySize + SeekFooterSize
	b = binary.LittleEndian.AppendUint32(b, skippableMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint32(b, e.CompressedSize)
		b = binary.LittleEndian.AppendUint32(b, e.DecompressedSize)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	b = append(b, 0) // descriptor: no checksums
	b = binary.LittleEndian.AppendUint32(b, seekableMagic)
	return b
}

// SeekTableSize reads the footer (the last SeekFooterSize bytes of a pack)
// and returns the size of the whole skippable frame holding the seek table.
func SeekTableSize(footer []byte) (int64, error) {
	if len(footer) != SeekFooterSize {
		return 0, fmt.Errorf("seek table footer: want %d bytes, have %d", SeekFooterSize, len(footer))
	}
	if binary.LittleEndian.Uint32(footer[5:]) != seekableMagic {
		return 0, errors.New("seek table footer: no seekable magic number (pack truncated or not a pack)")
	}
	desc := footer[4]
	if desc&0x7c != 0 {
		return 0, fmt.Errorf("seek table footer: reserved descriptor bits set (%#x)", desc)
	}
	n := int64(binary.LittleEndian.Uint32(footer[:4]))
	entry := int64(seekEntrySize)
	if desc&0x80 != 0 {
		entry += 4
	}
	return seekHeaderSize + n*entry + SeekFooterSize, nil
}

// DecodeSeekTable parses a whole seek table frame, as SeekTableSize sized it.
func DecodeSeekTable(b []byte) ([]SeekEntry, error) {
	if len(b) < seekHeaderSize+SeekFooterSize {
		return nil, errors.New("seek table: too short")
	}
	size, err := SeekTableSize(b[len(b)-SeekFooterSize:])
	if err != nil {
		return nil, err
	}
	if size != int64(len(b)) {
		return nil, fmt.Errorf("seek table: footer says %d bytes, have %d", size, len(b))
	}
	if binary.LittleEndian.Uint32(b) != skippableMagic {
		return nil, errors.New("seek table: no skippable frame magic number")
	}
	if int64(binary.LittleEndian.Uint32(b[4:])) != size-seekHeaderSize {
		return nil, errors.New("seek table: frame size disagrees with footer")
	}
	entry := seekEntrySize
	if b[len(b)-SeekFooterSize+4]&0x80 != 0 {
		entry += 4
	}
	body := b[seekHeaderSize : len(b)-SeekFooterSize]
	out := make([]SeekEntry, 0, len(body)/entry)
	for i := 0; i+entry <= len(body); i += entry {
		out = append(out, SeekEntry{
			CompressedSize:   binary.LittleEndian.Uint32(body[i:]),
			DecompressedSize: binary.LittleEndian.Uint32(body[i+4:]),
		})
	}
	return out, nil
}
