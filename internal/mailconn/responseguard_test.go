package mailconn

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkResponseGuard: what the guard costs on a FETCH response stream
// of 40 kB messages, read in 4 kB pieces as go-imap does.
func BenchmarkResponseGuard(b *testing.B) {
	var sb strings.Builder
	for i := range 100 {
		fmt.Fprintf(&sb, "* %d FETCH (UID %d FLAGS (\\Seen $label1) BODY[] {40000}\r\n%s)\r\n", i+1, i+1, strings.Repeat("x", 40000))
	}
	sb.WriteString("T1 OK done\r\n")
	stream := []byte(sb.String())
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		g := newResponseGuard()
		for p := stream; len(p) > 0; {
			n := min(len(p), 4096)
			if err := g.see(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
	}
}

// TestResponseGuard: which announcements and tokens the guard lets pass,
// fed one byte at a time and whole, so that splits cannot matter.
func TestResponseGuard(t *testing.T) {
	big := fmt.Sprint(maxTokenLength + 1)
	tests := []struct {
		name   string
		stream string
		want   string // in the error; "" for none
	}{
		{"greeting and tagged answer", "* OK hi\r\nT1 OK done\r\n", ""},
		{"small literal name", "* LIST () \"/\" {5}\r\nabcde\r\n", ""},
		{"large body", "* 1 FETCH (UID 1 BODY[] {" + big + "}\r\n", ""},
		{"large binary body", "* 1 FETCH (BINARY[1] ~{" + big + "}\r\n", ""},
		{"large header fields", "* 1 FETCH (BODY[HEADER.FIELDS (FROM TO)] {" + big + "}\r\n", ""},
		{"large partial body", "* 1 FETCH (BODY[]<0> {" + big + "}\r\n", ""},
		{"large RFC822", "* 1 FETCH (RFC822 {" + big + "}\r\n", ""},
		{"body after a small literal", "* 1 FETCH (X {3}\r\nabc BODY[] {" + big + "}\r\n", ""},
		{"large literal name", "* LIST () \"/\" {" + big + "}\r\n", "not a message body"},
		{"large non-sync literal", "* LIST () \"/\" {" + big + "+}\r\n", "not a message body"},
		{"body item outside FETCH", "* LIST () \"/\" BODY[] {" + big + "}\r\n", "not a message body"},
		{"large literal in a tagged answer", "T1 OK {" + big + "}\r\n", "not a message body"},
		{"long quoted string", "* LIST () \"/\" \"" + strings.Repeat("a b", maxTokenLength/2), "quoted string"},
		{"long atom", "* OK " + strings.Repeat("a", maxTokenLength+1), "atom"},
		{"short words on a long line", "* SEARCH" + strings.Repeat(" 12345", 200_000) + "\r\n", ""},
		{"FETCH answers within the mailbox", "* 2 EXISTS\r\n" + strings.Repeat("* 1 FETCH (FLAGS ())\r\n", fetchSlack+4) + "T1 OK\r\n" + strings.Repeat("* 1 FETCH (FLAGS ())\r\n", fetchSlack+4), ""},
		{"FETCH answers beyond the mailbox", "* 2 EXISTS\r\n" + strings.Repeat("* 1 FETCH (FLAGS ())\r\n", fetchSlack+5), "FETCH responses"},
		{"escaped quote in a string", "* LIST () \"/\" \"a\\\"" + strings.Repeat(" ", 10) + "\"\r\nT1 OK\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, piece := range []int{1, len(tt.stream)} {
				g := newResponseGuard()
				var err error
				for p := []byte(tt.stream); len(p) > 0 && err == nil; {
					n := min(piece, len(p))
					err = g.see(p[:n])
					p = p[n:]
				}
				if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
					t.Errorf("pieces of %d: error %v, want %q", piece, err, tt.want)
				}
			}
		})
	}
}
