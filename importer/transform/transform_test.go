package transform

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

	"github.com/emersion/go-message"

	"github.com/mailferry/mailferry/format"
)

// bytesOpener opens b again on every call, as the archive does a blob.
func bytesOpener(b []byte) Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func corpusFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../../testdata/corpus/*.eml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("corpus: %v (%d files)", err, len(paths))
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

// decodedParts returns the decoded body of every leaf part, as go-message
// reads them, keyed by IMAP part number; message/rfc822 bodies are read
// as messages in turn ("2/" prefixes the parts of the message in part 2).
func decodedParts(raw []byte) (map[string][]byte, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !unknownCoding(err) {
		return nil, err
	}
	out := map[string][]byte{}
	return out, walkDecoded(e, "", out)
}

func unknownCoding(err error) bool {
	return message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)
}

func walkDecoded(e *message.Entity, num string, out map[string][]byte) error {
	if mr := e.MultipartReader(); mr != nil {
		for i := 1; ; i++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && !unknownCoding(err) {
				return err
			}
			if err := walkDecoded(p, childPart(num, i), out); err != nil {
				return err
			}
		}
	}
	body, err := io.ReadAll(e.Body)
	if err != nil {
		return err
	}
	if mt, _, _ := e.Header.ContentType(); mt == "message/rfc822" {
		// The transforms work inside a forwarded message too; one that
		// go-message cannot read leaves nothing to compare.
		inner, err := message.Read(bytes.NewReader(body))
		if err != nil && !unknownCoding(err) {
			return fmt.Errorf("part %s: message/rfc822: %w", num, err)
		}
		return walkDecoded(inner, num+"/", out)
	}
	if num == "" {
		num = "1"
	}
	out[num] = body
	return nil
}

// longestLine returns the longest line's length, line break not counted.
func longestLine(b []byte) int {
	m := &lineMeter{limit: -1}
	m.Write(b)
	m.finish()
	return int(m.longest)
}

// toCRLF is b with every bare LF as CRLF, written out the plain way.
func toCRLF(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// TestTransformsPassCorpusUnchanged checks that transforms with nothing to
// do send every corpus message as stored, line endings aside.
func TestTransformsPassCorpusUnchanged(t *testing.T) {
	dovecot, err := ProfileByName("dovecot")
	if err != nil {
		t.Fatal(err)
	}
	withLimit := Set{MaxLineLength: 25_000}
	for name, tr := range map[string]Set{"zero": {}, "dovecot": dovecot.Transforms(), "line limit above every line": withLimit} {
		for file, b := range corpusFiles(t) {
			m := format.Message{Folder: "INBOX", UID: 7, Size: int64(len(b)), Flags: format.NormalizeFlags([]string{format.FlagSeen, "$label1"})}
			res, err := tr.Apply(m, nil, bytesOpener(b))
			if err != nil {
				t.Fatalf("%s %s: %v", name, file, err)
			}
			want := toCRLF(b)
			var kinds []Kind
			if !bytes.Equal(want, b) {
				kinds = []Kind{KindCRLF}
			}
			if res.Skip != "" || !slices.Equal(Kinds(res.Changes), kinds) {
				t.Errorf("%s %s: skip %q, changes %q", name, file, res.Skip, res.Changes)
				continue
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatalf("%s %s: read: %v", name, file, err)
			}
			if !bytes.Equal(got, want) || res.Size != int64(len(want)) || res.HasNUL {
				t.Errorf("%s %s: body changed (%d bytes, size %d, want %d; NUL %v)", name, file, len(got), res.Size, len(want), res.HasNUL)
			}
			if !slicesEqual(res.Flags, m.Flags) {
				t.Errorf("%s %s: flags %q, want %q", name, file, res.Flags, m.Flags)
			}
		}
	}
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func TestTransformsApply(t *testing.T) {
	corpus := corpusFiles(t)
	exchange, _ := ProfileByName("exchange")
	tests := []struct {
		name       string
		tr         Set
		file       string
		size       int64 // 0: the file's
		flags      format.Flags
		permanent  []string
		skip       string
		wantFlags  format.Flags
		wantAfter  format.Flags
		kinds      []Kind   // Kinds(Changes), exactly
		changes    []string // substrings, each in some change
		contains   []string // in the body
		notContain []string
	}{
		{
			name: "exchange disarms and fixes lines", tr: exchange.Transforms(), file: "06-long-line.eml",
			flags: format.Flags{format.FlagFlagged, format.FlagSeen, "$label1"}, permanent: nil,
			wantFlags: format.Flags{format.FlagSeen}, wantAfter: format.Flags{format.FlagFlagged},
			kinds: []Kind{KindFlagDropped, KindFlagStoredAfter, KindLineReencoded, KindCRLF},
			changes: []string{"keyword $label1 dropped", `\Flagged set with STORE`, "part 1 text/plain: 1 line of 20000 bytes re-encoded as quoted-printable (was 7bit)",
				"bare LF sent as CRLF"},
			contains: []string{"Content-Transfer-Encoding: quoted-printable\r\n", "\r\nEnd of report.\r\n"},
		},
		{
			name: "exchange read receipt", tr: exchange.Transforms(), file: "11-read-receipt.eml",
			kinds:      []Kind{KindReadReceiptDisarmed},
			changes:    []string{"renamed header Disposition-Notification-To to X-Disposition-Notification-To", "renamed header Return-Receipt-To to X-Return-Receipt-To"},
			contains:   []string{"\r\nX-Disposition-Notification-To: Grace Hopper <grace@example.com>\r\nX-Return-Receipt-To: grace@example.com\r\n"},
			notContain: []string{"\nDisposition-Notification-To"},
		},
		{
			name: "provenance, CRLF", tr: Set{ProvenanceAccount: "alice@example.com"}, file: "01-plain-crlf.eml",
			kinds:    []Kind{KindHeaderAdded},
			changes:  []string{"added header X-Mailferry-Source"},
			contains: []string{"X-Mailferry-Source: account=\"alice@example.com\"; folder=\"Sent Items\"; uid=42\r\nReturn-Path:"},
		},
		{
			name: "provenance, LF", tr: Set{ProvenanceAccount: "alice"}, file: "02-bare-lf.eml",
			kinds:    []Kind{KindHeaderAdded, KindCRLF},
			changes:  []string{"added header X-Mailferry-Source", "line endings: 24 bare LF sent as CRLF"},
			contains: []string{"X-Mailferry-Source: account=alice; folder=\"Sent Items\"; uid=42\r\n"},
		},
		{
			name: "over max size", tr: Set{MaxSize: 1000}, file: "06-long-line.eml",
			skip: "20.6 kB over --max-size 1 kB",
		},
		{
			name: "over max size after re-encoding", tr: Set{MaxSize: 20_700, MaxLineLength: 998}, file: "06-long-line.eml",
			skip: "after the transforms",
		},
		{
			name: "big message, line limit met", tr: Set{MaxLineLength: 998}, file: "07-big-attachment.eml",
			kinds: []Kind{KindCRLF}, changes: []string{"line endings: 92005 bare LF sent as CRLF"},
		},
		{
			name: "big message, header edit", tr: Set{MaxLineLength: 998, Headers: HeaderEdits{Remove: []string{"Received"}}}, file: "07-big-attachment.eml",
			kinds:   []Kind{KindHeaderRemoved, KindCRLF},
			changes: []string{"removed header Received"}, notContain: []string{"Received:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := corpus[tt.file]
			m := format.Message{Folder: "Sent Items", UID: 42, Size: int64(len(b)), Flags: tt.flags}
			if tt.size != 0 {
				m.Size = tt.size
			}
			res, err := tt.tr.Apply(m, tt.permanent, bytesOpener(b))
			if err != nil {
				t.Fatal(err)
			}
			if tt.skip != "" || res.Skip != "" {
				if !strings.Contains(res.Skip, tt.skip) || tt.skip == "" || res.Body != nil {
					t.Fatalf("skip %q (body %v), want %q", res.Skip, res.Body != nil, tt.skip)
				}
				return
			}
			got, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if int64(len(got)) != res.Size {
				t.Errorf("body %d bytes, size %d", len(got), res.Size)
			}
			all := strings.Join(Details(res.Changes), "\n")
			for _, c := range tt.changes {
				if !strings.Contains(all, c) {
					t.Errorf("changes lack %q:\n%s", c, all)
				}
			}
			if !slices.Equal(Kinds(res.Changes), tt.kinds) {
				t.Errorf("kinds %q, want %q:\n%s", Kinds(res.Changes), tt.kinds, all)
			}
			for _, c := range tt.contains {
				if !bytes.Contains(got, []byte(c)) {
					t.Errorf("body lacks %q", c)
				}
			}
			for _, c := range tt.notContain {
				if bytes.Contains(got, []byte(c)) {
					t.Errorf("body still has %q", c)
				}
			}
			if tt.wantFlags != nil && !slicesEqual(res.Flags, tt.wantFlags) || !slicesEqual(res.StoreAfter, tt.wantAfter) {
				t.Errorf("flags %q then %q, want %q then %q", res.Flags, res.StoreAfter, tt.wantFlags, tt.wantAfter)
			}
			if tt.tr.MaxLineLength > 0 && longestLine(got) > tt.tr.MaxLineLength {
				t.Errorf("a line of %d bytes is left", longestLine(got))
			}
			if len(tt.changes) == 0 && !bytes.Equal(got, b) {
				t.Errorf("body changed without a change reported")
			}
			if bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("a bare LF is left")
			}
		})
	}
}

// applyAndRead runs tr over the message open opens, announced as size
// bytes, and reads its Body; the error is Apply's or the read's.
func applyAndRead(tr Set, size int64, open Opener) (*Result, []byte, error) {
	res, err := tr.Apply(format.Message{Size: size}, nil, open)
	if err != nil {
		return nil, nil, err
	}
	got, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	return res, got, err
}

// bigMessage is a message in bare LF lines, more than smallMessage long.
func bigMessage() []byte {
	line := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n"
	return []byte("Subject: big\n\n" + strings.Repeat(line, smallMessage/len(line)+100))
}

func TestTransformsApplySizeMismatch(t *testing.T) {
	small := corpusFiles(t)["01-plain-crlf.eml"]
	for _, b := range [][]byte{small, bigMessage()} {
		for _, tr := range []Set{{}, {Headers: HeaderEdits{DisarmReadReceipts: true}}, {MaxLineLength: 998}} {
			for _, size := range []int64{int64(len(b)) - 1, int64(len(b)) + 1} {
				if _, _, err := applyAndRead(tr, size, bytesOpener(b)); !errors.Is(err, ErrSizeMismatch) {
					t.Errorf("%+v, size %d of %d: err %v, want ErrSizeMismatch", tr, size, len(b), err)
				}
			}
		}
	}
	// A big message is read twice, to learn its size and to send it: one
	// that changes in between fails as it is sent, longer, shorter, or as
	// long with one more line to end in CRLF.
	b := bigMessage()
	for _, later := range [][]byte{append(bytes.Clone(b), 'x'), b[:len(b)-1], bytes.Replace(b, []byte("0"), []byte("\n"), 1)} {
		calls := 0
		open := func() (io.ReadCloser, error) {
			calls++
			if calls > 1 {
				return io.NopCloser(bytes.NewReader(later)), nil
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		if _, _, err := applyAndRead(Set{}, int64(len(b)), open); !errors.Is(err, ErrSizeMismatch) {
			t.Errorf("changed from %d to %d bytes: err %v, want ErrSizeMismatch", len(b), len(later), err)
		}
	}
}

func TestTransformsSpoolRemoved(t *testing.T) {
	dir := t.TempDir()
	b := corpusFiles(t)["06-long-line.eml"]
	tr := Set{MaxLineLength: 998, TempDir: dir}
	res, err := tr.Apply(format.Message{Size: int64(len(b))}, nil, bytesOpener(b))
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("%d spool files, want 1", len(left))
	}
	res.Body.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spool file left after Close")
	}
}

func TestTransformsValidate(t *testing.T) {
	for _, p := range ProfileNames() {
		pr, _ := ProfileByName(p)
		tr := pr.Transforms()
		if err := tr.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, tr := range []Set{
		{MaxLineLength: 50},
		{MaxSize: -1},
		{Headers: HeaderEdits{Add: []HeaderAdd{{Name: "X A", Value: "1"}}}},
		{Headers: HeaderEdits{Add: []HeaderAdd{{Name: "X-A", Value: "1\r\nBcc: x"}}}},
		{Headers: HeaderEdits{Remove: []string{""}}},
		{Headers: HeaderEdits{Rename: []HeaderRename{{From: "A", To: ""}}}},
	} {
		if err := tr.Validate(); err == nil {
			t.Errorf("%+v: no error", tr)
		}
	}
}
