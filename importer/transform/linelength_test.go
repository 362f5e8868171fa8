package transform

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// lorem returns n bytes of words, no line break.
func lorem(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "word%05d ", i)
	}
	return b.String()[:n]
}

// noisy returns n bytes of every value but CR and LF, in a scrambled order.
func noisy(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = 'x'
		}
	}
	return b
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestFixLongLines(t *testing.T) {
	corpus := corpusFiles(t)
	long := lorem(20000)
	latin1 := string(noisy(12000)) + "  \t"
	b64 := base64.StdEncoding.EncodeToString(noisy(30000))
	qpLong := strings.Repeat("caf=C3=A9 =3D ", 200) // 2800 bytes, one line: go-message still decodes it

	tests := []struct {
		name    string
		in      string
		limit   int
		changes []string // one substring per expected change, in order
		unfixed int
		// undecodable: go-message cannot read the input (here a preamble
		// line over its 4096-byte buffer), so there is nothing to compare.
		undecodable bool
		keep        []string // must be in the output byte for byte
		absent      []string
	}{
		{
			name:    "text/plain 8bit, CRLF, latin-1 and trailing blanks",
			in:      crlf("From: a@example.com\nSubject: latin\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nshort line\n") + latin1 + "\r\nlast line  \r\n",
			limit:   9900,
			changes: []string{"part 1 text/plain: 1 line of 12003 bytes re-encoded as quoted-printable (was 8bit)"},
			keep:    []string{"Content-Transfer-Encoding: quoted-printable\r\n\r\nshort line\r\n", "last line =20\r\n"},
			absent:  []string{"8bit"},
		},
		{
			name:    "text/html 7bit inside multipart/alternative, LF",
			in:      "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\nThis is a preamble.\n--b1\nContent-Type: text/plain\n\nplain\n--b1  \nContent-Type: text/html\nContent-Transfer-Encoding: 7bit\n\n<p>" + long + "</p>\n-- \nsig\n--b1--\nepilogue\n",
			limit:   998,
			changes: []string{"part 2 text/html: 1 line of 20007 bytes re-encoded as quoted-printable (was 7bit)"},
			keep:    []string{"boundary=\"b1\"\n\nThis is a preamble.\n--b1\nContent-Type: text/plain\n\nplain\n--b1  \nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<p>word", "\n--b1--\nepilogue\n", "\n=2D-=20\nsig\n--b1--"},
		},
		{
			name:    "base64 on one line",
			in:      crlf("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=xyz\n\n--xyz\nContent-Type: text/plain\n\nsee attached\n--xyz\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n") + b64 + crlf("\n--xyz--\n"),
			limit:   9900,
			changes: []string{"part 2 application/octet-stream: 1 line of 40000 bytes re-wrapped as base64 at 76 characters"},
			keep:    []string{crlf("Content-Transfer-Encoding: base64\n\n") + b64[:76] + "\r\n" + b64[76:152] + "\r\n", b64[len(b64)-40000%76:] + crlf("\n--xyz--\n"), crlf("--xyz\nContent-Type: text/plain\n\nsee attached\n--xyz\n")},
		},
		{
			name:  "nested multipart and a long References",
			in:    crlf("From: a@example.com\nReferences: "+strings.Repeat("<id.1234567890@example.com> ", 600)+"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nshort\n--inner\nContent-Type: text/html; charset=utf-8\n\n") + long + crlf("\n--inner--\n\n--outer\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n") + qpLong + crlf("\n--outer--\n"),
			limit: 998,
			changes: []string{
				"header References: line of 16812 bytes folded at whitespace",
				"part 1.2 text/html: 1 line of 20000 bytes re-encoded as quoted-printable (was no Content-Transfer-Encoding)",
				"part 2 text/plain: 1 line of 2800 bytes re-wrapped with quoted-printable soft line breaks at 76 characters",
			},
			keep: []string{crlf("--inner\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nshort\n--inner\n"), crlf("--inner--\n\n--outer\n")},
		},
		{
			name:    "corpus 06-long-line.eml",
			in:      string(corpus["06-long-line.eml"]),
			limit:   9900,
			changes: []string{"part 1 text/plain: 1 line of 20000 bytes re-encoded as quoted-printable (was 7bit)"},
			keep:    []string{"The generator of this report does not wrap lines:\n\nlorem ipsum", "\n\nEnd of report.\n"},
		},
		{
			name:    "not MIME: MIME-Version added",
			in:      "From: a@example.com\nSubject: plain\n\n" + long + "\n",
			limit:   998,
			changes: []string{"part 1 text/plain: 1 line of 20000 bytes re-encoded as quoted-printable (was no Content-Transfer-Encoding)"},
			keep:    []string{"Subject: plain\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\nword"},
		},
		{
			name:    "message/rfc822 part",
			in:      crlf("From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nforwarded:\n--m\nContent-Type: message/rfc822\n\nFrom: b@example.com\nSubject: inner\n\n") + long + crlf("\n--m--\n"),
			limit:   998,
			changes: []string{"part 2.1 text/plain: 1 line of 20000 bytes re-encoded as quoted-printable"},
			keep:    []string{crlf("Content-Type: message/rfc822\n\nFrom: b@example.com\nSubject: inner\nMIME-Version: 1.0\nContent-Transfer-Encoding: quoted-printable\n\n")},
		},
		{
			name:        "unfixable: preamble, unknown encoding, header without blanks",
			in:          "From: a@example.com\nX-Blob: " + strings.Repeat("x", 2000) + "\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n" + long + "\n--q\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\n" + long + "\n--q--\n",
			limit:       998,
			unfixed:     3,
			undecodable: true,
		},
		{
			name:    "nested past the walk's depth",
			in:      strings.Repeat("Content-Type: message/rfc822\n\n", maxNesting+1) + "From: a\n\n" + long + "\n",
			limit:   998,
			unfixed: 1,
		},
		{
			name:  "no long line: untouched",
			in:    string(corpus["08-multipart-alternative.eml"]),
			limit: 998,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			var out bytes.Buffer
			fix, err := FixLongLines(&out, bytesOpener(in), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			if len(fix.Changes) != len(tt.changes) {
				t.Fatalf("changes %q, want %q", fix.Changes, tt.changes)
			}
			for i, c := range tt.changes {
				if !strings.Contains(fix.Changes[i].Detail, c) {
					t.Errorf("change %d: %q, want %q", i, fix.Changes[i], c)
				}
			}
			if len(fix.Unfixed) != tt.unfixed {
				t.Errorf("unfixed %q, want %d", fix.Unfixed, tt.unfixed)
			}
			if len(tt.changes) == 0 && !bytes.Equal(got, in) {
				t.Errorf("bytes changed with nothing to change")
			}
			if tt.unfixed == 0 && longestLine(got) > tt.limit {
				t.Errorf("a line of %d bytes is left", longestLine(got))
			}
			for _, k := range tt.keep {
				if !bytes.Contains(got, []byte(k)) {
					t.Errorf("output lacks %q", k)
				}
			}
			for _, a := range tt.absent {
				if bytes.Contains(got, []byte(a)) {
					t.Errorf("output still has %q", a)
				}
			}
			if !tt.undecodable {
				checkSameDecoded(t, in, got)
			}
		})
	}
}

// checkSameDecoded checks that every part of out decodes to the same bytes
// as in, as go-message reads them.
func checkSameDecoded(t *testing.T, in, out []byte) {
	t.Helper()
	want, err := decodedParts(in)
	if err != nil {
		t.Fatalf("decode input: %v", err)
	}
	got, err := decodedParts(out)
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("%d parts decoded, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, w) {
			t.Errorf("part %s decodes to %d different bytes, want %d", k, len(g), len(w))
		}
	}
}

func TestFixLongLinesLimit(t *testing.T) {
	_, err := PlanLineFix(bytesOpener([]byte("x")), 77)
	if !errors.Is(err, ErrLineLimit) {
		t.Errorf("limit 77: %v, want ErrLineLimit", err)
	}
}

func TestFixLongLinesHugeHeader(t *testing.T) {
	in := []byte("X-A: " + strings.Repeat("a ", maxHeaderSection) + "\n\nbody\n")
	var out bytes.Buffer
	fix, err := FixLongLines(&out, bytesOpener(in), 998)
	if err != nil {
		t.Fatal(err)
	}
	if fix.Rewrites() || len(fix.Unfixed) != 1 || !bytes.Equal(out.Bytes(), in) {
		t.Errorf("huge header: rewrites %v, unfixed %q", fix.Rewrites(), fix.Unfixed)
	}
}

// A line longer than the reader's buffer streams through in pieces; a CR
// at the end of a piece must still be seen with its LF.
func TestFixLongLinesBeyondBuffer(t *testing.T) {
	head := "From: a@example.com\r\nContent-Type: text/plain\r\n\r\n"
	body := strings.Repeat("y", lineBufferSize-len(head)-1) + "\r\n" + lorem(3*lineBufferSize) + "\r\nend\r\n"
	in := []byte(head + body)
	var out bytes.Buffer
	if _, err := FixLongLines(&out, bytesOpener(in), 998); err != nil {
		t.Fatal(err)
	}
	if longestLine(out.Bytes()) > 998 {
		t.Errorf("a line of %d bytes is left", longestLine(out.Bytes()))
	}
	checkSameDecoded(t, in, out.Bytes())
}

func TestQPEncoderDecodesBack(t *testing.T) {
	for _, s := range []string{"", "a", "a \r\n", "a\t", "\r", "a\rb", "--b\n-x", "=\r\r\n", string(noisy(5000)), "x \n \n\t", strings.Repeat("é ", 100)} {
		var enc bytes.Buffer
		e := newQPEncoder(&enc, lineCRLF)
		e.Write([]byte(s))
		e.Close()
		msg := "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + enc.String()
		got, err := decodedParts([]byte(msg))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(got["1"]) != s {
			t.Errorf("%q encodes to %q, decodes to %q", s, enc.String(), got["1"])
		}
		if longestLine(enc.Bytes()) > qpLineWidth {
			t.Errorf("%q: line of %d", s, longestLine(enc.Bytes()))
		}
	}
}
