package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

const corpusDir = "../../testdata/corpus"

// corpusFiles returns the paths of the test corpus messages.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil || len(files) < 15 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	return files
}

// mtimeKeepsNanos reports whether the file system under dir keeps
// sub-second modification times.
func mtimeKeepsNanos(t *testing.T, dir string) bool {
	t.Helper()
	p := filepath.Join(dir, "probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	want := time.Unix(1700000000, 123456789)
	if err := os.Chtimes(p, want, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().Equal(want)
}

func TestOpenNotMaildir(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir)
	if !errors.Is(err, ErrNotMaildir) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open(empty dir) = %v, want ErrNotMaildir naming %q", err, dir)
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, ErrNotMaildir) {
		t.Fatalf("Open(missing) = %v, want ErrNotMaildir", err)
	}
	if _, err := Create(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatalf("Open after Create: %v", err)
	}
}

// TestRoundTrip delivers every corpus message into several folders with
// flags, keywords and dates, and reads them back.
func TestRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "Maildir")
	s, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	nanos := mtimeKeepsNanos(t, root)
	t.Logf("file system keeps nanosecond mtimes: %v", nanos)

	folders := []format.Folder{
		{Name: "INBOX", Delimiter: "/"},
		{Name: "Entwürfe", Delimiter: "/"},
		{Name: "Archive/2024/Q1", Delimiter: "/"},
		{Name: "Q&A", Delimiter: "/"},
	}
	flagSets := []format.Flags{
		{},
		{format.FlagSeen},
		{format.FlagSeen, format.FlagAnswered, format.FlagForwarded},
		{format.FlagDraft, format.FlagFlagged, format.FlagDeleted, "$label1"},
		{format.FlagSeen, "$label1", "Project-X", "$NotJunk"},
		{`\seen`, `\Recent`, "Project-X"},
	}
	type want struct {
		data  []byte
		flags format.Flags
		date  time.Time
	}
	wants := make(map[string]want) // by path
	for i, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		folder, err := s.CreateFolder(folders[i%len(folders)])
		if err != nil {
			t.Fatal(err)
		}
		flags := flagSets[i%len(flagSets)]
		date := time.Date(2024, 1, 1+i, 12, 30, 15, 987654321, time.FixedZone("", 3600))
		p, err := s.Deliver(folder, flags, date, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("deliver %s: %v", path, err)
		}
		if !strings.Contains(p, ",S="+fmt.Sprint(len(data))+":2,") {
			t.Errorf("delivered file name %q lacks S=%d", p, len(data))
		}
		wants[p] = want{data, format.NormalizeFlags(flags), date}
	}

	got, err := s.Folders()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range got {
		if f.HasAttribute(`\Noselect`) {
			continue
		}
		err := s.Messages(f.Name, func(m Message, r io.Reader) error {
			n++
			w, ok := wants[m.Path]
			if !ok {
				return fmt.Errorf("unexpected message %s", m.Path)
			}
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if !bytes.Equal(data, w.data) {
				t.Errorf("%s: bytes differ", m.Path)
			}
			if m.Size != int64(len(w.data)) {
				t.Errorf("%s: size %d, want %d", m.Path, m.Size, len(w.data))
			}
			if !slices.Equal(m.Flags, w.flags) {
				t.Errorf("%s: flags %q, want %q", m.Path, m.Flags, w.flags)
			}
			wantDate := w.date
			if !nanos {
				wantDate = wantDate.Truncate(time.Second)
			}
			if !m.InternalDate.Equal(wantDate) {
				t.Errorf("%s: date %v, want %v", m.Path, m.InternalDate, wantDate)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("messages of %q: %v", f.Name, err)
		}
	}
	if n != len(wants) {
		t.Errorf("read %d messages, delivered %d", n, len(wants))
	}

	// A second Store (a new run) reads the keyword letters from disk.
	kw, err := os.ReadFile(filepath.Join(root, keywordsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(kw, []byte(" $label1\n")) || !bytes.Contains(kw, []byte(" Project-X\n")) {
		t.Errorf("INBOX dovecot-keywords = %q", kw)
	}
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s2.Deliver("INBOX", format.Flags{"Project-X"}, time.Now(), strings.NewReader("Subject: x\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	kw2, _ := os.ReadFile(filepath.Join(root, keywordsFile))
	if !bytes.Equal(kw, kw2) {
		t.Errorf("known keyword changed dovecot-keywords: %q -> %q", kw, kw2)
	}
	if !strings.HasSuffix(p, ":2,"+string(rune('a'+bytes.Count(kw[:bytes.Index(kw, []byte(" Project-X"))], []byte("\n"))))) {
		t.Errorf("file %q does not carry Project-X's letter (keywords %q)", p, kw)
	}
}

func TestDeliverKeywordOverflow(t *testing.T) {
	s, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 26; i++ {
		if _, err := s.Deliver("INBOX", format.Flags{fmt.Sprintf("kw%02d", i)}, time.Now(), strings.NewReader("x\n")); err != nil {
			t.Fatalf("keyword %d: %v", i, err)
		}
	}
	_, err = s.Deliver("INBOX", format.Flags{format.FlagSeen, "kw26"}, time.Now(), strings.NewReader("x\n"))
	if !errors.Is(err, ErrTooManyKeywords) || !strings.Contains(err.Error(), "kw26") {
		t.Fatalf("27th keyword: %v, want ErrTooManyKeywords naming kw26", err)
	}
	var files int
	s.Messages("INBOX", func(Message, io.Reader) error { files++; return nil })
	if files != 26 {
		t.Errorf("%d messages after the refused delivery, want 26", files)
	}
	// Known keywords still fit.
	if _, err := s.Deliver("INBOX", format.Flags{"kw00", "kw25"}, time.Now(), strings.NewReader("x\n")); err != nil {
		t.Fatal(err)
	}
}

func TestDeliverBadFlags(t *testing.T) {
	s, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, flags := range []format.Flags{{`\Important`}, {"two words"}, {"new\nline"}} {
		if _, err := s.Deliver("INBOX", flags, time.Now(), strings.NewReader("x\n")); !errors.Is(err, ErrFlag) {
			t.Errorf("Deliver with %q: %v, want ErrFlag", flags, err)
		}
	}
}

func TestParseInfo(t *testing.T) {
	kw := &keywords{}
	kw.names[0], kw.names[2] = "$label1", "Project-X"
	tests := []struct {
		name string
		want format.Flags
	}{
		{"1704701645.M1P2Q3.host,S=923,W=950:2,RS", format.Flags{format.FlagAnswered, format.FlagSeen}},
		{"1704701645.M1P2Q3.host:2,DFPRST", format.Flags{format.FlagForwarded, format.FlagAnswered, format.FlagDeleted, format.FlagDraft, format.FlagFlagged, format.FlagSeen}},
		{"1704701645.M1P2Q3.host:2,Sac", format.Flags{"$label1", "Project-X", format.FlagSeen}},
		{"1704701645.M1P2Q3.host:2,Sb", format.Flags{format.FlagSeen}}, // b is not in dovecot-keywords
		{"1704701645.M1P2Q3.host:2,SX", format.Flags{format.FlagSeen}}, // X is no Maildir flag
		{"1704701645.M1P2Q3.host", format.Flags{}},                     // no info
		{"1704701645.M1P2Q3.host:1,S", format.Flags{}},                 // experimental info
		{"odd name:with:colons:2,F", format.Flags{format.FlagFlagged}}, // the last info counts
		{"1704701645.M1P2Q3.host\\0721:2,", format.Flags{}},            // no flags
	}
	for _, tt := range tests {
		if got := parseInfo(tt.name, kw); !slices.Equal(got, format.NormalizeFlags(tt.want)) {
			t.Errorf("parseInfo(%q) = %q, want %q", tt.name, got, format.NormalizeFlags(tt.want))
		}
	}
}

// TestDeliverForwarded checks that $Forwarded is stored both as P, which
// mutt reads, and as a keyword, which Dovecot shows.
func TestDeliverForwarded(t *testing.T) {
	s, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Deliver("INBOX", format.Flags{format.FlagForwarded, format.FlagSeen}, time.Now(), strings.NewReader("x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, ":2,PSa") {
		t.Errorf("file %q, want flags PSa", p)
	}
	if kw, _ := os.ReadFile(filepath.Join(s.Root(), keywordsFile)); string(kw) != "0 $Forwarded\n" {
		t.Errorf("dovecot-keywords %q", kw)
	}
	// With every keyword letter taken, P alone keeps the flag.
	s, err = Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 26; i++ {
		if _, err := s.Deliver("INBOX", format.Flags{fmt.Sprint("k", i)}, time.Now(), strings.NewReader("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	p, err = s.Deliver("INBOX", format.Flags{format.FlagForwarded}, time.Now(), strings.NewReader("x\n"))
	if err != nil || !strings.HasSuffix(p, ":2,P") {
		t.Errorf("$Forwarded with no letter left: %q, %v", p, err)
	}
}
