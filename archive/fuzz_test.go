package archive

import (
	"bytes"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/format"
)

// FuzzPackFile feeds arbitrary bytes to the pack reader verify uses: it must
// report problems, never panic or allocate without bound.
func FuzzPackFile(f *testing.F) {
	enc, _ := zstd.NewWriter(nil)
	frame := enc.EncodeAll([]byte("chunk one chunk two"), nil)
	loc := format.ChunkLocation{ID: format.Sum([]byte("chunk one")), FrameLength: int64(len(frame)), Length: 9}
	list, err := format.AppendPackList(nil, []format.ChunkLocation{loc}, []format.MessageChunks{{ID: loc.ID, Size: 9, Chunks: []format.ID{loc.ID}}})
	if err != nil {
		f.Fatal(err)
	}
	good := format.AppendSeekTable(append(append([]byte(nil), frame...), list...),
		[]format.SeekEntry{{CompressedSize: uint32(len(frame)), DecompressedSize: 19}, {CompressedSize: uint32(len(list))}})
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := OpenOrCreate(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		id := format.Sum(b)
		p := filePath(a.dir, dirPacks, id)
		os.MkdirAll(p[:len(p)-65], 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		dec, _ := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(2*format.MaxFrameSize))
		defer dec.Close()
		loc := loc
		loc.Pack = id
		rep := &VerifyReport{}
		bad, _ := a.verifyPack(dec, id, []format.ChunkLocation{loc}, rep)
		if bytes.Equal(b, good) != (len(bad) == 0 && rep.OK()) {
			t.Fatalf("pack judged wrongly: %v", rep.Problems)
		}
	})
}
