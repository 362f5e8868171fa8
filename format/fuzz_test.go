package format

import (
	"bytes"
	"testing"
	"time"
)

// Each decoder that reads archive files is fuzzed: whatever the bytes, it
// returns records or an error, never panics, and never loops forever.

func sampleSnapshot(tb testing.TB) []byte {
	var b bytes.Buffer
	enc, err := NewSnapshotEncoder(&b, Snapshot{Account: "a@b", Source: Source{Kind: SourceIMAP, Endpoint: "imap://a@b"}, Started: time.Unix(1, 0)})
	if err != nil {
		tb.Fatal(err)
	}
	enc.Folder(Folder{Name: "INBOX", Delimiter: "/"})
	enc.Message(Message{Folder: "INBOX", UID: 1, ID: Sum([]byte("x")), Size: 1, InternalDate: time.Unix(2, 0)})
	if err := enc.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func sampleIndex(tb testing.TB) []byte {
	var b bytes.Buffer
	enc, err := NewIndexEncoder(&b, 0)
	if err != nil {
		tb.Fatal(err)
	}
	id := Sum([]byte("x"))
	enc.Chunk(ChunkLocation{ID: id, Pack: Sum([]byte("p")), FrameOffset: 0, FrameLength: 10, Offset: 0, Length: 1})
	enc.Message(MessageChunks{ID: id, Size: 1, Chunks: []ID{id}})
	if err := enc.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func FuzzSnapshotDecoder(f *testing.F) {
	f.Add(sampleSnapshot(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec, err := NewSnapshotDecoder(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer dec.Close()
		for range 1 << 20 {
			if _, err := dec.Next(); err != nil {
				return
			}
		}
		t.Fatal("decoder did not stop")
	})
}

func FuzzIndexDecoder(f *testing.F) {
	f.Add(sampleIndex(f))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec, err := NewIndexDecoder(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer dec.Close()
		for range 1 << 20 {
			if _, err := dec.Next(); err != nil {
				return
			}
		}
		t.Fatal("decoder did not stop")
	})
}

func FuzzPackList(f *testing.F) {
	id := Sum([]byte("x"))
	list, err := AppendPackList(nil, []ChunkLocation{{ID: id, FrameLength: 10, Length: 1}}, []MessageChunks{{ID: id, Size: 1, Chunks: []ID{id}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(list[SkippableHeaderSize:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec, err := NewPackListDecoder(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer dec.Close()
		for range 1 << 20 {
			if _, err := dec.Next(); err != nil {
				return
			}
		}
		t.Fatal("decoder did not stop")
	})
}

func FuzzSeekTable(f *testing.F) {
	f.Add(AppendSeekTable(nil, []SeekEntry{{10, 20}, {5, 7}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= SeekFooterSize {
			SeekTableSize(b[len(b)-SeekFooterSize:])
		}
		entries, err := DecodeSeekTable(b)
		if err != nil {
			return
		}
		// What decodes must encode back to the same table.
		if again := AppendSeekTable(nil, entries); b[len(b)-SeekFooterSize+4]&0x80 == 0 && !bytes.Equal(again, b) {
			t.Fatalf("re-encoded seek table differs")
		}
	})
}

func FuzzConfig(f *testing.F) {
	b, _ := EncodeConfig(Config{ID: "x", Created: time.Unix(1, 0)})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeConfig(b)
	})
}

func FuzzParseID(f *testing.F) {
	f.Add(Sum(nil).String())
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err == nil && id.String() != s && id.String() != lower(s) {
			t.Fatalf("ParseID(%q) = %s", s, id)
		}
	})
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }
