package archive

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mailferry/mailferry/format"
)

// packList is what a pack of format version 2 says it holds.
type packList struct {
	chunks []format.ChunkLocation // with Pack set
	msgs   []format.MessageChunks
	frame  int64 // offset of the list's skippable frame
}

// errNoPackList means a pack carries no list: packs of format version 1
// have none.
var errNoPackList = errors.New("the pack carries no list of what it holds (format version 1)")

// readPackList reads the list among a pack's frames (as its seek table
// gives them).
func readPackList(f *os.File, pack format.ID, frames []frameSpan) (*packList, error) {
	for _, fr := range frames {
		if fr.dlen != 0 || fr.clen < format.SkippableHeaderSize {
			continue
		}
		hdr := make([]byte, format.SkippableHeaderSize)
		if _, err := f.ReadAt(hdr, fr.off); err != nil {
			return nil, err
		}
		n, ok := format.PackListSize(hdr)
		if !ok {
			continue
		}
		if n+format.SkippableHeaderSize != fr.clen {
			return nil, fmt.Errorf("pack list at %d: frame of %d bytes, seek table says %d", fr.off, n+format.SkippableHeaderSize, fr.clen)
		}
		dec, err := format.NewPackListDecoder(io.NewSectionReader(f, fr.off+format.SkippableHeaderSize, n))
		if err != nil {
			return nil, fmt.Errorf("pack list: %w", err)
		}
		defer dec.Close()
		l := &packList{frame: fr.off}
		for {
			rec, err := dec.Next()
			if err == io.EOF {
				return l, nil
			}
			if err != nil {
				return nil, fmt.Errorf("pack list: %w", err)
			}
			if rec.Chunk != nil {
				rec.Chunk.Pack = pack
				l.chunks = append(l.chunks, *rec.Chunk)
			} else {
				l.msgs = append(l.msgs, *rec.Message)
			}
		}
	}
	return nil, errNoPackList
}

// openPackList opens a pack and reads its list.
func (a *Archive) openPackList(pack format.ID) (*packList, error) {
	f, err := a.openFile(dirPacks, pack)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	frames, err := readSeekTable(f, st.Size())
	if err != nil {
		return nil, err
	}
	return readPackList(f, pack, frames)
}
