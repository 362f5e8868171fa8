package mailconn

import (
	"strings"
	"testing"
)

// TestHideIMAP4rev2: IMAP4rev2 is hidden from go-imap in a CAPABILITY list
// that offers IMAP4rev1 too (greeting, CAPABILITY response, tagged OK),
// and left alone where the server offers IMAP4rev2 alone, outside
// CAPABILITY lists and inside message bodies.
func TestHideIMAP4rev2(t *testing.T) {
	const body = "* CAPABILITY IMAP4rev1 IMAP4rev2\r\n"
	for _, tc := range []struct{ name, in, want string }{
		{"greeting", "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+] ready\r\n", "* OK [CAPABILITY IMAP4rev1 X-MF-REV2 LITERAL+] ready\r\n"},
		{"rev2 first, any case", "* CAPABILITY imap4rev2 IMAP4rev1 IDLE\r\n", "* CAPABILITY X-MF-REV2 IMAP4rev1 IDLE\r\n"},
		{"at the end of the list", "T1 OK [CAPABILITY IMAP4rev1 IMAP4rev2] Logged in\r\n", "T1 OK [CAPABILITY IMAP4rev1 X-MF-REV2] Logged in\r\n"},
		{"at the end of the line", "* CAPABILITY IMAP4rev1 IMAP4rev2\r\n", "* CAPABILITY IMAP4rev1 X-MF-REV2\r\n"},
		{"rev2 alone", "* CAPABILITY IMAP4rev2 IDLE\r\n", "* CAPABILITY IMAP4rev2 IDLE\r\n"},
		{"a longer name", "* CAPABILITY IMAP4rev1 IMAP4rev2X\r\n", "* CAPABILITY IMAP4rev1 IMAP4rev2X\r\n"},
		{"not a capability list", "* LIST () \"/\" \"IMAP4rev1 IMAP4rev2\"\r\n", "* LIST () \"/\" \"IMAP4rev1 IMAP4rev2\"\r\n"},
		{"a message body", "* 1 FETCH (BODY[] {34}\r\n" + body + ")\r\n", "* 1 FETCH (BODY[] {34}\r\n" + body + ")\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, and cut into two reads just before IMAP4rev2 (go-imap
			// reads what the connection has): the rewrite is the same.
			cuts := []int{len(tc.in)}
			if i := strings.Index(strings.ToUpper(tc.in), "IMAP4REV2"); i > 0 {
				cuts = append(cuts, i)
			}
			for _, cut := range cuts {
				b := []byte(tc.in)
				g := newResponseGuard()
				if err := g.see(b[:min(cut, len(b))]); err != nil {
					t.Fatal(err)
				}
				if cut < len(b) {
					if err := g.see(b[cut:]); err != nil {
						t.Fatal(err)
					}
				}
				if string(b) != tc.want {
					t.Errorf("cut at %d: %q, want %q", cut, b, tc.want)
				}
			}
		})
	}
}
