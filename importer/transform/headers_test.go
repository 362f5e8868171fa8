package transform

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
)

func TestHeaderEdits(t *testing.T) {
	corpus := corpusFiles(t)
	tests := []struct {
		name    string
		edits   HeaderEdits
		in      string
		want    string
		changes []string
	}{
		{
			name:  "disarm, CRLF corpus file",
			edits: HeaderEdits{DisarmReadReceipts: true},
			in:    string(corpus["11-read-receipt.eml"]),
			want: strings.Replace(strings.Replace(string(corpus["11-read-receipt.eml"]),
				"\r\nDisposition-Notification-To:", "\r\nX-Disposition-Notification-To:", 1),
				"\r\nReturn-Receipt-To:", "\r\nX-Return-Receipt-To:", 1),
			changes: []string{
				"renamed header Disposition-Notification-To to X-Disposition-Notification-To (read receipt disarmed)",
				"renamed header Return-Receipt-To to X-Return-Receipt-To (read receipt disarmed)",
			},
		},
		{
			name:    "disarm is case-insensitive and keeps the value's bytes",
			edits:   HeaderEdits{DisarmReadReceipts: true},
			in:      "From: a\ndisposition-notification-to :  <a@x>\n\tfolded\n\nDisposition-Notification-To: in the body\n",
			want:    "From: a\nX-disposition-notification-to :  <a@x>\n\tfolded\n\nDisposition-Notification-To: in the body\n",
			changes: []string{"renamed header disposition-notification-to to X-disposition-notification-to (read receipt disarmed)"},
		},
		{
			name:    "remove takes continuation lines, every occurrence",
			edits:   HeaderEdits{Remove: []string{"received"}},
			in:      "Received: from a\r\n\tby b\r\n    for c\r\nFrom: x\r\nRECEIVED: again\r\nTo: y\r\n\r\nReceived: body line\r\n",
			want:    "From: x\r\nTo: y\r\n\r\nReceived: body line\r\n",
			changes: []string{"removed header Received (2 fields)"},
		},
		{
			name:    "add goes first with the message's line break: LF",
			edits:   HeaderEdits{Add: []HeaderAdd{{"X-A", "1"}, {"X-B", "two words"}}},
			in:      "From: x\nTo: y\n\nbody\n",
			want:    "X-A: 1\nX-B: two words\nFrom: x\nTo: y\n\nbody\n",
			changes: []string{"added header X-A", "added header X-B"},
		},
		{
			name:    "add, CRLF",
			edits:   HeaderEdits{Add: []HeaderAdd{{"X-A", "1"}}},
			in:      "From: x\r\n\r\nbody",
			want:    "X-A: 1\r\nFrom: x\r\n\r\nbody",
			changes: []string{"added header X-A"},
		},
		{
			name:    "rename",
			edits:   HeaderEdits{Rename: []HeaderRename{{"X-Spam-Status", "X-Old-Spam-Status"}}},
			in:      "X-Spam-Status: No, score=-1\r\n  tests=NONE\r\nFrom: x\r\n\r\n",
			want:    "X-Old-Spam-Status: No, score=-1\r\n  tests=NONE\r\nFrom: x\r\n\r\n",
			changes: []string{"renamed header X-Spam-Status to X-Old-Spam-Status"},
		},
		{
			name:    "headers only, no final line break",
			edits:   HeaderEdits{Remove: []string{"Content-Type"}, Add: []HeaderAdd{{"X-A", "1"}}},
			in:      string(corpus["13-empty-body-no-newline.eml"]),
			want:    "X-A: 1\r\n" + strings.TrimSuffix(string(corpus["13-empty-body-no-newline.eml"]), "Content-Type: text/plain; charset=us-ascii"),
			changes: []string{"added header X-A", "removed header Content-Type"},
		},
		{
			name:    "header section without blank line",
			edits:   HeaderEdits{Remove: []string{"X-Last"}},
			in:      "From: x\nX-Last: y",
			want:    "From: x\n",
			changes: []string{"removed header X-Last"},
		},
		{
			name:    "malformed first line stays where it is",
			edits:   HeaderEdits{Add: []HeaderAdd{{"X-A", "1"}}},
			in:      " stray\nFrom: x\n\nb",
			want:    " stray\nX-A: 1\nFrom: x\n\nb",
			changes: []string{"added header X-A"},
		},
		{
			name:    "only a malformed line, no line break",
			edits:   HeaderEdits{Add: []HeaderAdd{{"X-A", "1"}}},
			in:      " stray",
			want:    " stray\r\nX-A: 1\r\n",
			changes: []string{"added header X-A"},
		},
		{
			name:    "empty message",
			edits:   HeaderEdits{Add: []HeaderAdd{{"X-A", "1"}}},
			in:      "",
			want:    "X-A: 1\r\n",
			changes: []string{"added header X-A"},
		},
		{
			name:  "nothing to do",
			edits: HeaderEdits{DisarmReadReceipts: true, Remove: []string{"X-None"}},
			in:    string(corpus["02-bare-lf.eml"]),
			want:  string(corpus["02-bare-lf.eml"]),
		},
		{
			name:    "header section over 1 MiB",
			edits:   HeaderEdits{Remove: []string{"X-Big"}},
			in:      "X-Big: " + strings.Repeat("b", maxHeaderSection) + "\n\nbody\n",
			want:    "X-Big: " + strings.Repeat("b", maxHeaderSection) + "\n\nbody\n",
			changes: []string{"header edits not applied: the header section is over 1 MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, changes, err := tt.edits.Apply(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", trimForLog(got), trimForLog([]byte(tt.want)))
			}
			if strings.Join(Details(changes), "|") != strings.Join(tt.changes, "|") {
				t.Errorf("changes %q, want %q", changes, tt.changes)
			}
			_, delta, _, _ := tt.edits.apply(strings.NewReader(tt.in))
			if int64(len(got)-len(tt.in)) != delta {
				t.Errorf("delta %d, size changed by %d", delta, len(got)-len(tt.in))
			}
		})
	}
}

func trimForLog(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "..."...)
	}
	return b
}

// The body is never read into memory: a reader that fails after the header
// section shows the edit returns before reading it.
func TestHeaderEditsStream(t *testing.T) {
	head := "Disposition-Notification-To: a\r\n\r\n"
	r := io.MultiReader(strings.NewReader(head), failingReader{})
	e := HeaderEdits{DisarmReadReceipts: true}
	out, _, err := e.Apply(r)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(head)+2)
	n, _ := io.ReadFull(out, buf)
	if string(buf[:n]) != "X-"+head {
		t.Errorf("got %q", buf[:n])
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("body read") }

func TestParseHeaderOptions(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want HeaderAdd
		err  bool
	}{
		{spec: "X-Migrated: yes", want: HeaderAdd{"X-Migrated", "yes"}},
		{spec: "X-Empty:", want: HeaderAdd{"X-Empty", ""}},
		{spec: "  X-Pad  :   a: b ", want: HeaderAdd{"X-Pad", "a: b "}},
		{spec: "no colon", err: true},
		{spec: "Bad Name: x", err: true},
		{spec: ": x", err: true},
		{spec: "X-Inject: a\r\nBcc: evil@example.com", err: true},
	} {
		got, err := ParseHeaderAdd(tt.spec)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("ParseHeaderAdd(%q) = %q, %v", tt.spec, got, err)
		}
		if err != nil && !errors.Is(err, ErrHeaderSpec) {
			t.Errorf("ParseHeaderAdd(%q): %v is no ErrHeaderSpec", tt.spec, err)
		}
	}
	for _, tt := range []struct {
		spec string
		want HeaderRename
		err  bool
	}{
		{spec: "X-Spam:X-Old-Spam", want: HeaderRename{"X-Spam", "X-Old-Spam"}},
		{spec: "X-Spam : X-Old", want: HeaderRename{"X-Spam", "X-Old"}},
		{spec: "X-Spam", err: true},
		{spec: "X-Spam:", err: true},
	} {
		got, err := ParseHeaderRename(tt.spec)
		if (err != nil) != tt.err || !tt.err && got != tt.want {
			t.Errorf("ParseHeaderRename(%q) = %q, %v", tt.spec, got, err)
		}
	}
	for spec, want := range map[string]string{"Received": "Received", " X-A: ": "X-A", "": "", "a b": ""} {
		got, err := ParseHeaderRemove(spec)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseHeaderRemove(%q) = %q, %v", spec, got, err)
		}
	}
}

func TestProvenance(t *testing.T) {
	for _, tt := range []struct {
		account string
		m       format.Message
		want    string
	}{
		{"alice", format.Message{Folder: "INBOX", UID: 7}, "account=alice; folder=INBOX; uid=7"},
		{"alice@example.com", format.Message{Folder: `Say "hi"`, UID: 1}, `account="alice@example.com"; folder="Say \"hi\""; uid=1`},
		{"bob", format.Message{Folder: "Entwürfe", UID: 3}, "account=bob; folder*=utf-8''Entw%C3%BCrfe; uid=3"},
		{"pop", format.Message{Folder: "INBOX", UIDL: "abc 1"}, `account=pop; folder=INBOX; uidl="abc 1"`},
	} {
		got := Provenance(tt.account, tt.m)
		if got.Name != ProvenanceHeader || got.Value != tt.want {
			t.Errorf("Provenance(%q, %+v) = %q, want %q", tt.account, tt.m, got.Value, tt.want)
		}
		// The value must pass the same checks a user's --add-header does.
		if _, err := ParseHeaderAdd(got.Name + ": " + got.Value); err != nil {
			t.Error(err)
		}
	}
}

func TestHeaderEditsKeepBodyBytes(t *testing.T) {
	e := HeaderEdits{DisarmReadReceipts: true, Remove: []string{"Received"}, Add: []HeaderAdd{{"X-A", "1"}}}
	for name, b := range corpusFiles(t) {
		r, _, err := e.Apply(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		_, inTail := splitAtBody(b)
		_, outTail := splitAtBody(got)
		if !bytes.Equal(inTail, outTail) {
			t.Errorf("%s: body changed", name)
		}
	}
}

// splitAtBody cuts a message after its header section's blank line.
func splitAtBody(b []byte) (head, body []byte) {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(b, []byte(sep)); i >= 0 {
			return b[:i+len(sep)], b[i+len(sep):]
		}
	}
	return b, nil
}
