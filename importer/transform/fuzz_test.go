package transform

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func addCorpusSeeds(f *testing.F, add func(b []byte)) {
	for _, b := range corpusFiles(f) {
		if len(b) < 100_000 {
			add(b)
		}
	}
}

func FuzzHeaderEdits(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(" stray"))
	f.Add([]byte("Received: a\r\n b\r\nSubject: s\r\n\r\nbody"))
	f.Add([]byte("subject : x\n\tmore\nRETURN-RECEIPT-TO: y\nX-Spam: 1"))
	e := HeaderEdits{
		DisarmReadReceipts: true,
		Remove:             []string{"Received", "X-Spam"},
		Rename:             []HeaderRename{{From: "Subject", To: "X-Old-Subject"}},
		Add:                []HeaderAdd{{Name: "X-A", Value: "1"}},
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, delta, _, err := e.apply(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(out)-len(in)) != delta {
			t.Fatalf("delta %d, size changed by %d", delta, len(out)-len(in))
		}
		section, tooBig, _ := readHeaderSection(bufio.NewReader(bytes.NewReader(in)), maxHeaderSection)
		if tooBig {
			if !bytes.Equal(in, out) {
				t.Fatal("a header section over the cap was changed")
			}
			return
		}
		body := in[len(section):]
		if !bytes.HasSuffix(out, body) {
			t.Fatal("body changed")
		}
		outSection := out[:len(out)-len(body)]

		// Every field not edited is still there, in order, byte for byte;
		// the edited ones are renamed or gone.
		inFields, _ := splitHeader(section)
		var want []string
		for _, fl := range inFields {
			if e.removes(fl.name) {
				continue
			}
			name := fl.name
			if to, _ := e.renames(fl.name); to != "" {
				name = to
			}
			want = append(want, strings.TrimRight(name+string(fl.raw[len(fl.name):]), "\r\n"))
		}
		outFields, tail := splitHeader(outSection)
		var got []string
		skipped := false
		for _, fl := range outFields {
			if !skipped && string(fl.raw) == "X-A: 1"+string(sectionLineBreak(section)) {
				skipped = true
				continue
			}
			got = append(got, strings.TrimRight(string(fl.raw), "\r\n"))
		}
		if !skipped {
			t.Fatalf("added field missing in %q", outSection)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("fields\n%q\nwant\n%q", got, want)
		}
		if _, inTail := splitHeader(section); !bytes.Equal(tail, inTail) {
			t.Fatalf("blank line %q became %q", inTail, tail)
		}
	})
}

func FuzzFixLongLines(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b, uint8(0)) })
	f.Add([]byte(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n")+strings.Repeat("QUJD", 60)+"\r\n--b--\r\n"), uint8(3))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"x\"\n\n--x\nContent-Transfer-Encoding: quoted-printable\n\n"+strings.Repeat("a=3Db =\t", 40)+"\n--x--\n"), uint8(9))
	f.Add([]byte("From: a\nReferences: "+strings.Repeat("<a@b> ", 50)+"\n\n"+strings.Repeat("-- \r\n", 3)+strings.Repeat("x ", 90)+"\n"), uint8(1))
	// Inputs fuzzing found wanting once.
	f.Add([]byte("0:000000000000000000000000\nContent-TYpe:multipArt/0;BoundArY=\"----=_Part_0_1823\"\n\n0000000000000000000000000\n------=_Part_0_1823\nContent-TYpe:messAge/rfC822\n\n0\n\n"+strings.Repeat("0", 98)+"\n------=_Part_0_1823--"), uint8(0x13))
	f.Add([]byte("Content-TYpe:multipArt/0;BoundArY=\"x\"\n\n--x\nContent-TrAnsfer-EnCoding:quoted-printABle\n\n"+strings.Repeat("0", 72)+"=0  "+strings.Repeat("0", 70)+"= \n--x--"), uint8('\t'))
	f.Fuzz(func(t *testing.T, in []byte, l uint8) {
		limit := MinLineLimit + int(l)
		var out bytes.Buffer
		fix, err := FixLongLines(&out, bytesOpener(in), limit)
		if err != nil {
			t.Fatal(err)
		}
		got := out.Bytes()
		if len(fix.Changes) == 0 && !bytes.Equal(got, in) {
			t.Fatal("bytes changed with no change reported")
		}
		if len(fix.Unfixed) == 0 && longestLine(got) > limit {
			t.Fatalf("a line of %d bytes over %d is left, and not reported", longestLine(got), limit)
		}
		want, err := decodedParts(in)
		if err != nil {
			return // go-message cannot read the input: nothing to compare
		}
		have, err := decodedParts(got)
		if err != nil {
			t.Fatalf("output does not decode: %v\nchanges %q", err, fix.Changes)
		}
		if len(have) != len(want) {
			t.Fatalf("%d parts, want %d; changes %q", len(have), len(want), fix.Changes)
		}
		for k, w := range want {
			if !bytes.Equal(have[k], w) {
				t.Fatalf("part %s decodes differently: %q, want %q; changes %q", k, trimForLog(have[k]), trimForLog(w), fix.Changes)
			}
		}
	})
}

// FuzzWire checks the wire stage on its own and after the other stages:
// Size is what Body yields, no bare LF is left, only line breaks change
// (unless the line fix ran), HasNUL tells the truth, and the hash line
// endings aside is the same before and after.
func FuzzWire(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b, uint8(0), false) })
	f.Add([]byte("a\r\r\n\n\r"), uint8(0), false)
	f.Add([]byte("\n\x00\r"), uint8(1), true)
	f.Add([]byte("Subject: x\n\n"+strings.Repeat("y ", 80)+"\n"), uint8(0), true)
	f.Fuzz(func(t *testing.T, in []byte, l uint8, edit bool) {
		var tr Set
		if edit {
			tr.Headers.DisarmReadReceipts = true
			tr.MaxLineLength = MinLineLimit + int(l)
		}
		res, got, err := applyAndRead(tr, int64(len(in)), oneByteOpener(in))
		if err != nil {
			t.Fatal(err)
		}
		if res.Size != int64(len(got)) {
			t.Fatalf("Size %d, %d bytes yielded", res.Size, len(got))
		}
		if bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("a bare LF is left in %q", got)
		}
		if !edit && !bytes.Equal(got, toCRLF(in)) {
			t.Fatalf("got %q, want %q", got, toCRLF(in))
		}
		if !edit && res.HasNUL != bytes.Contains(in, []byte{0}) || res.HasNUL != bytes.Contains(got, []byte{0}) {
			t.Fatalf("HasNUL %v for %q", res.HasNUL, got)
		}
		if (len(res.Changes) == 0) != bytes.Equal(got, in) && !edit {
			t.Fatalf("changes %q, bytes changed %v", res.Changes, !bytes.Equal(got, in))
		}
		sumIn, _ := CRLFSum(iotest.OneByteReader(bytes.NewReader(in)))
		sumGot, _ := CRLFSum(bytes.NewReader(got))
		if !edit && sumIn != sumGot || sumGot != sha256.Sum256(got) {
			t.Fatalf("hash line endings aside differs")
		}
		streamed, _ := io.ReadAll(newCRLFReader(iotest.OneByteReader(bytes.NewReader(in))))
		if !bytes.Equal(streamed, toCRLF(in)) {
			t.Fatalf("streamed %q, want %q", streamed, toCRLF(in))
		}
	})
}
