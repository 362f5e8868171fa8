// Command corpusgen writes a synthetic Maildir for the benchmarks under
// bench/: text mails, HTML newsletters and mails with base64 attachments of
// several kinds, in proportions like a real office mailbox. The same seed
// gives the same bytes, so figures can be compared between runs.
package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var words = strings.Fields(`the of and to in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there would their we him been has when who will more no if out so said what up its about
into than them can only other new some could time these two may then do first any my now such like our over man me even
most made after also did many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here between both life being
under never day same another know while last might us great old year off come since against go came right used take
three invoice meeting project budget quarter report deadline review contract client server migration mailbox folder
attached please regards thanks schedule agenda minutes proposal draft final version update status team manager office`)

type gen struct{ r *rand.Rand }

func (g gen) sentence() string {
	n := 6 + g.r.IntN(14)
	var b strings.Builder
	for i := range n {
		w := words[g.r.IntN(len(words))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		b.WriteString(w)
		if i < n-1 {
			b.WriteByte(' ')
		}
	}
	b.WriteString(". ")
	return b.String()
}

// text returns about n bytes of prose wrapped at 72 columns with CRLF.
func (g gen) text(n int) string {
	var b, line strings.Builder
	for b.Len() < n {
		for _, w := range strings.Fields(g.sentence()) {
			if line.Len()+len(w) > 72 {
				b.WriteString(line.String() + "\r\n")
				line.Reset()
			}
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(w)
		}
		if g.r.IntN(5) == 0 {
			b.WriteString(line.String() + "\r\n\r\n")
			line.Reset()
		}
	}
	return b.String() + line.String() + "\r\n"
}

// attachment returns raw bytes of a kind: text-like documents compress well,
// "images" (random bytes) not at all, spreadsheets in between.
func (g gen) attachment(kind, n int) []byte {
	switch kind {
	case 0: // a document: prose with markup
		var b bytes.Buffer
		for b.Len() < n {
			fmt.Fprintf(&b, "<w:p><w:r><w:t>%s</w:t></w:r></w:p>\n", g.sentence())
		}
		return b.Bytes()[:n]
	case 1: // a spreadsheet: numbers in rows
		var b bytes.Buffer
		for b.Len() < n {
			fmt.Fprintf(&b, "%d;%s;%d.%02d;%d\n", g.r.IntN(100000), words[g.r.IntN(len(words))], g.r.IntN(10000), g.r.IntN(100), g.r.IntN(9))
		}
		return b.Bytes()[:n]
	default: // images, archives: already compressed
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return b
	}
}

func wrap64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s + "\r\n"
}

func (g gen) message(i int, date time.Time) []byte {
	var b strings.Builder
	from := fmt.Sprintf("%s.%s@example%d.com", words[g.r.IntN(len(words))], words[g.r.IntN(len(words))], g.r.IntN(20))
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", from)
	for h := range 2 + g.r.IntN(3) {
		fmt.Fprintf(&b, "Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n\tby mail.example.org (Postfix) with ESMTPS id %X\r\n\tfor <user@example.org>; %s\r\n",
			h, h, g.r.IntN(250), g.r.Uint64(), date.Format(time.RFC1123Z))
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: user@example.org\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%x@example.com>\r\nMIME-Version: 1.0\r\n",
		from, strings.TrimSpace(g.sentence()), date.Format(time.RFC1123Z), i, g.r.Uint64())
	switch k := g.r.IntN(10); {
	case k < 5: // plain text
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", g.text(500+g.r.IntN(6000)))
	case k < 7: // HTML newsletter
		body := g.text(3000 + g.r.IntN(20000))
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"alt%d\"\r\n\r\n--alt%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n--alt%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><table><tr><td>%s</td></tr></table></body></html>\r\n--alt%d--\r\n",
			i, i, body, i, strings.ReplaceAll(body, "\r\n\r\n", "</p><p>"), i)
	default: // attachments
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"mix%d\"\r\n\r\n--mix%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", i, i, g.text(300+g.r.IntN(2000)))
		for a := range 1 + g.r.IntN(2) {
			size := 5000 + g.r.IntN(55000)
			if g.r.IntN(60) == 0 {
				size = 1<<19 + g.r.IntN(3<<19)
			}
			fmt.Fprintf(&b, "--mix%d\r\nContent-Type: application/octet-stream; name=\"file%d.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"file%d.bin\"\r\n\r\n%s",
				i, a, a, wrap64(g.attachment(g.r.IntN(4), size)))
		}
		fmt.Fprintf(&b, "--mix%d--\r\n", i)
	}
	return []byte(b.String())
}

func main() {
	out := flag.String("out", "", "Maildir to create")
	n := flag.Int("n", 3000, "messages")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		log.Fatal("corpusgen: -out DIR is required")
	}
	g := gen{r: rand.New(rand.NewPCG(*seed, 2))}
	folders := []string{"", ".Sent", ".Archive", ".Archive.2024", ".Projects"}
	for _, f := range folders {
		for _, d := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(*out, f, d), 0o755); err != nil {
				log.Fatal(err)
			}
		}
	}
	date := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	var total int64
	for i := range *n {
		date = date.Add(time.Duration(g.r.IntN(7200)) * time.Second)
		msg := g.message(i, date)
		total += int64(len(msg))
		folder := folders[g.r.IntN(len(folders))]
		name := filepath.Join(*out, folder, "cur", fmt.Sprintf("%d.M%dP1.corpus,S=%d:2,S", date.Unix(), i, len(msg)))
		if err := os.WriteFile(name, msg, 0o644); err != nil {
			log.Fatal(err)
		}
		os.Chtimes(name, date, date)
	}
	fmt.Printf("corpusgen: %d messages, %d bytes in %s\n", *n, total, *out)
}
