package format

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func TestSnapshotRoundTrip(t *testing.T) {
	var b bytes.Buffer
	zone := time.FixedZone("", 5*3600+1800)
	h := Snapshot{Account: "a@b", Source: Source{Kind: SourceIMAP, Endpoint: "imap://a@b:143"}, Run: "r", Started: time.Unix(100, 0).In(zone), Complete: true}
	enc, err := NewSnapshotEncoder(&b, h)
	if err != nil {
		t.Fatal(err)
	}
	folders := []Folder{
		{Name: "INBOX", Delimiter: "/", Subscribed: true, UIDValidity: 7, UIDNext: 9, PermanentFlags: []string{`\*`}},
		{Name: "Öffentliche Ordner/Q&A ", Delimiter: "/", Attributes: []string{`\Noselect`}},
	}
	msgs := []Message{
		{Folder: "INBOX", UID: 3, ID: Sum([]byte("m")), Size: 1, Flags: NormalizeFlags([]string{`\SEEN`, "Custom", `\Recent`}), InternalDate: time.Date(2001, 2, 3, 4, 5, 6, 0, zone)},
		{Folder: "INBOX", UIDL: "u-1", ID: Sum([]byte("m")), Size: 1, InternalDate: time.Unix(5, 0).UTC(), DateSource: DateFromReceived},
	}
	for _, f := range folders {
		if err := enc.Folder(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range msgs {
		if err := enc.Message(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Message(Message{Folder: "Nope", ID: Sum(nil), InternalDate: time.Unix(1, 0)}); err == nil {
		t.Error("message of an unrecorded folder accepted")
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	dec, err := NewSnapshotDecoder(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if got := dec.Header(); got.Account != h.Account || got.Version != Version || !SameDate(got.Started, h.Started) {
		t.Errorf("header %+v", got)
	}
	var gotF []Folder
	var gotM []Message
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Folder != nil {
			gotF = append(gotF, *rec.Folder)
		} else {
			gotM = append(gotM, *rec.Message)
		}
	}
	if len(gotF) != 2 || gotF[1].Name != folders[1].Name || !gotF[1].HasAttribute(`\noselect`) || gotF[0].UIDNext != 9 {
		t.Errorf("folders %+v", gotF)
	}
	if len(gotM) != 2 || !SameDate(gotM[0].InternalDate, msgs[0].InternalDate) || strings.Join(gotM[0].Flags, " ") != `Custom \Seen` || gotM[1].UIDL != "u-1" {
		t.Errorf("messages %+v", gotM)
	}
}

// A file of a newer version is refused with an error that says so.
func TestNewerVersionRefused(t *testing.T) {
	var raw bytes.Buffer
	zw, _ := zstd.NewWriter(&raw)
	io.WriteString(zw, `{"snapshot":{"version":3,"account":"a","source":{"kind":"imap"}}}`+"\n"+`{"end":{"records":1}}`+"\n")
	zw.Close()
	_, err := NewSnapshotDecoder(&raw)
	if !errors.Is(err, ErrNewerVersion) || !strings.Contains(err.Error(), "version 3") {
		t.Errorf("snapshot v3: %v", err)
	}
	_, err = DecodeConfig([]byte(`{"format":"mailferry-archive","version":9,"id":"x"}`))
	if !errors.Is(err, ErrNewerVersion) || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("config v9: %v", err)
	}
}

func TestTruncatedRecordFile(t *testing.T) {
	var b bytes.Buffer
	enc, _ := NewIndexEncoder(&b, 0)
	for i := range 100 {
		enc.Message(MessageChunks{ID: Sum([]byte{byte(i)}), Size: 1, Chunks: []ID{Sum([]byte{byte(i)})}})
	}
	enc.Close()
	full := b.Bytes()
	for _, cut := range []int{len(full) - 1, len(full) / 2, 10} {
		dec, err := NewIndexDecoder(bytes.NewReader(full[:cut]))
		if err != nil {
			continue
		}
		for {
			_, err = dec.Next()
			if err != nil {
				break
			}
		}
		if err == io.EOF {
			t.Errorf("cut at %d of %d: read to a clean end", cut, len(full))
		}
	}
}

func TestNormalizeFlags(t *testing.T) {
	cases := []struct{ in, want string }{
		{`\seen \SEEN \Recent $Junk`, `$Junk \Seen`},
		{`\Flagged \answered \DRAFT \deleted`, `\Answered \Deleted \Draft \Flagged`},
		{`Work work`, `Work work`},
		{``, ``},
	}
	for _, c := range cases {
		got := strings.Join(NormalizeFlags(strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("NormalizeFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSeekTableRoundTrip(t *testing.T) {
	entries := []SeekEntry{{100, 2000}, {1, 1}, {65536, 1 << 21}}
	b := AppendSeekTable([]byte("frames"), entries)
	tab := b[6:]
	n, err := SeekTableSize(tab[len(tab)-SeekFooterSize:])
	if err != nil || n != int64(len(tab)) {
		t.Fatal(n, err)
	}
	got, err := DecodeSeekTable(tab)
	if err != nil || len(got) != 3 || got[2] != entries[2] {
		t.Fatal(got, err)
	}
}

// TestEncoderWritesOnlyWhatDecoderReads: around MaxRecordLine, a folder
// record the encoder accepts is read back, and one it refuses leaves the
// file valid.
func TestEncoderWritesOnlyWhatDecoderReads(t *testing.T) {
	// The record's bytes besides the name: {"folder":{"name":"","delimiter":"","subscribed":false}} and a newline.
	overhead := len(`{"folder":{"name":"","delimiter":"","subscribed":false}}`) + 1
	var accepted, refused int
	for _, d := range []int{-1, 0, 1} {
		name := strings.Repeat("n", MaxRecordLine-overhead+d)
		var b bytes.Buffer
		enc, err := NewSnapshotEncoder(&b, Snapshot{Account: "a", Source: Source{Kind: SourceIMAP}, Started: time.Unix(1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		ferr := enc.Folder(Folder{Name: name})
		if ferr == nil {
			accepted++
		} else if errors.Is(ferr, ErrRecordTooLong) {
			refused++
		} else {
			t.Fatal(ferr)
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		dec, err := NewSnapshotDecoder(&b)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, err := dec.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("name of %d bytes (encoder said %v): %v", len(name), ferr, err)
			}
			n++
		}
		dec.Close()
		if want := map[bool]int{true: 1, false: 0}[ferr == nil]; n != want {
			t.Errorf("%d records read back, want %d", n, want)
		}
	}
	if accepted != 2 || refused != 1 {
		t.Errorf("accepted %d, refused %d; want 2 and 1 (the limit is off by some bytes)", accepted, refused)
	}
}

func TestQuoteName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"INBOX", `"INBOX"`},
		{"a\x1b[2Jb\n", `"a\x1b[2Jb\n"`},
		{"\xff", `"\xff"`},
		{strings.Repeat("é", 150), `"` + strings.Repeat("é", 100) + `"… (300 bytes)`},
	}
	for _, c := range cases {
		if got := QuoteName(c.in); got != c.want {
			t.Errorf("QuoteName(%.20q) = %.40s, want %.40s", c.in, got, c.want)
		}
	}
}

func TestPackListRoundTrip(t *testing.T) {
	a, b := Sum([]byte("a")), Sum([]byte("b"))
	chunks := []ChunkLocation{{ID: a, Pack: b, FrameOffset: 0, FrameLength: 40, Offset: 0, Length: 1}, {ID: b, FrameOffset: 40, FrameLength: 30, Offset: 7, Length: 1}}
	msgs := []MessageChunks{{ID: Sum([]byte("ab")), Size: 2, Chunks: []ID{a, b}}, {ID: Sum(nil)}}
	frame, err := AppendPackList([]byte("prefix"), chunks, msgs)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := PackListSize(frame[6:])
	if !ok || n != int64(len(frame)-6-SkippableHeaderSize) {
		t.Fatalf("PackListSize %d %v, frame of %d", n, ok, len(frame))
	}
	if _, ok := PackListSize(AppendSeekTable(nil, nil)); ok {
		t.Error("a seek table taken for a pack list")
	}
	dec, err := NewPackListDecoder(bytes.NewReader(frame[6+SkippableHeaderSize:]))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var gotC []ChunkLocation
	var gotM []MessageChunks
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Chunk != nil {
			gotC = append(gotC, *rec.Chunk)
		} else {
			gotM = append(gotM, *rec.Message)
		}
	}
	chunks[0].Pack = ID{} // a list never names its own pack
	if len(gotC) != 2 || gotC[0] != chunks[0] || gotC[1] != chunks[1] || len(gotM) != 2 || gotM[0].ID != msgs[0].ID || len(gotM[0].Chunks) != 2 {
		t.Errorf("read back %+v %+v", gotC, gotM)
	}
	// zstd skips the frame: a stream of it and a frame decodes to the frame's bytes.
	enc, _ := zstd.NewWriter(nil)
	stream := append(append([]byte(nil), frame[6:]...), enc.EncodeAll([]byte("data"), nil)...)
	zr, _ := zstd.NewReader(bytes.NewReader(stream))
	defer zr.Close()
	if out, err := io.ReadAll(zr); err != nil || string(out) != "data" {
		t.Errorf("zstd reads %q, %v", out, err)
	}
}

// TestInvalidUTF8FolderNames: JSON keeps names as UTF-8, so two names
// that differ only in invalid bytes read back as one; the encoder refuses
// the second rather than write a file the decoder refuses.
func TestInvalidUTF8FolderNames(t *testing.T) {
	cases := []struct {
		names   []string
		refused int // index of the folder refused, -1 for none
	}{
		{[]string{"a\xffb", "a\xfeb"}, 1},
		{[]string{"a\xff\xfe", "a\xff"}, -1},
		{[]string{"Entw\xfcrfe", "Entwürfe"}, -1},
	}
	for _, c := range cases {
		var b bytes.Buffer
		enc, _ := NewSnapshotEncoder(&b, Snapshot{Account: "a", Source: Source{Kind: SourceMaildir}, Started: time.Unix(1, 0)})
		refused := -1
		for i, n := range c.names {
			if err := enc.Folder(Folder{Name: n}); err != nil {
				refused = i
				continue
			}
			if err := enc.Message(Message{Folder: n, UID: 1, ID: Sum(nil), InternalDate: time.Unix(1, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		enc.Close()
		if refused != c.refused {
			t.Errorf("%q: folder %d refused, want %d", c.names, refused, c.refused)
		}
		dec, err := NewSnapshotDecoder(&b)
		if err != nil {
			t.Fatal(err)
		}
		for {
			_, err := dec.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%q: written, then refused: %v", c.names, err)
			}
		}
		dec.Close()
	}
}
