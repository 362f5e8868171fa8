//go:build ignore

// Command gen writes the generated parts of testdata: the 5 MiB attachment
// message of the corpus, the Maildir++ tree maildir/ and the mbox tree mbox/,
// the trees built from corpus messages. Its output is checked in; run it
// from the repository root after changing it or the corpus:
//
//	go run testdata/gen/main.go
//
// It writes the trees by hand rather than through internal/maildir and
// internal/mbox, so that tests read files laid out as Dovecot and other
// programs lay them out, not only what this project writes.
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const dir = "testdata"

func main() {
	if err := bigAttachment(filepath.Join(dir, "corpus", "07-big-attachment.eml")); err != nil {
		log.Fatal(err)
	}
	if err := maildirTree(filepath.Join(dir, "maildir")); err != nil {
		log.Fatal(err)
	}
	if err := mboxTree(filepath.Join(dir, "mbox")); err != nil {
		log.Fatal(err)
	}
}

// bigAttachment writes a message with a 5 MiB attachment of pseudo-random
// bytes (PCG from a fixed seed: the same bytes on every run and Go version).
func bigAttachment(path string) error {
	data := make([]byte, 5<<20)
	rng := rand.New(rand.NewPCG(20240127, 1))
	for i := 0; i < len(data); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	var b bytes.Buffer
	b.WriteString(`Return-Path: <mara@example.org>
Delivered-To: alice@example.com
Received: from mail.example.org (mail.example.org [198.51.100.3])
	by mx1.example.com (Postfix) with ESMTPS id 4TXr1d3Ef4z9sX9
	for <alice@example.com>; Mon, 15 Jan 2024 16:20:45 +0100 (CET)
From: Mara <mara@example.org>
To: alice@example.com
Subject: Scans from the archive (5 MB)
Date: Mon, 15 Jan 2024 16:20:31 +0100
Message-ID: <scan-batch-17@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1_9f3e2d1c"

--b1_9f3e2d1c
Content-Type: text/plain; charset=us-ascii

Here are the scans. The file is large, sorry.

--b1_9f3e2d1c
Content-Type: application/octet-stream; name="scans.bin"
Content-Disposition: attachment; filename="scans.bin"
Content-Transfer-Encoding: base64

`)
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		b.WriteString(enc[:n] + "\n")
		enc = enc[n:]
	}
	b.WriteString("--b1_9f3e2d1c--\n")
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func corpus(name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, "corpus", name))
	if err != nil {
		log.Fatal(err)
	}
	return b
}

var dateHeader = regexp.MustCompile(`(?mi)^Date: (.*?)\r?$`)

// date returns the Date header of message m.
func date(m []byte) time.Time {
	sm := dateHeader.FindSubmatch(m)
	if sm == nil {
		log.Fatal("message without Date header")
	}
	for _, layout := range []string{"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, _2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, string(sm[1])); err == nil {
			return t
		}
	}
	log.Fatalf("cannot parse date %q", sm[1])
	return time.Time{}
}

// entry is a message of a Maildir folder: a corpus file and its info
// letters; "" puts it in new/.
type entry struct {
	file, flags string
}

// maildirTree writes a small Maildir++ tree as Dovecot 2.3 leaves it.
func maildirTree(root string) error {
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	folders := []struct {
		dir      string
		keywords string
		msgs     []entry
	}{
		{"", "0 $label1\n1 Project-X\n", []entry{
			{"01-plain-crlf.eml", "RS"}, {"02-bare-lf.eml", "S"}, {"03-latin1-8bit.eml", "FS"},
			{"04-utf8-headers.eml", "Sa"}, {"05-no-message-id.eml", "ST"}, {"06-long-line.eml", "S"},
			{"08-multipart-alternative.eml", "Sb"}, {"09-from-lines.eml", "PS"}, {"11-read-receipt.eml", "Sab"},
			{"12-folded-encoded.eml", ""}, {"14-no-final-newline.eml", ""}, {"16-mixed-line-endings.eml", ""},
		}},
		{".Sent", "", []entry{{"17-sent-reply.eml", "S"}}},
		{".Entw&APw-rfe", "", []entry{{"18-draft.eml", "DS"}, {"13-empty-body-no-newline.eml", "D"}}},
		{".Archive.2024.Q1", "0 Project-X\n", []entry{
			{"01-plain-crlf.eml", "RS"}, {"08-multipart-alternative.eml", "Sa"}, {"12-folded-encoded.eml", "S"},
			{"15-forwarded-rfc822.eml", "FS"}, {"16-mixed-line-endings.eml", "S"},
		}},
		{".Q&-A", "", []entry{{"09-from-lines.eml", "S"}, {"11-read-receipt.eml", "RS"}, {"02-bare-lf.eml", "S"}}},
		{".Trailing ", "", []entry{{"04-utf8-headers.eml", "S"}, {"10-headers-only.eml", "S"}}},
	}
	q := 0
	for _, f := range folders {
		fdir := filepath.Join(root, f.dir)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(fdir, sub), 0o755); err != nil {
				return err
			}
			// git keeps no empty directories.
			if err := os.WriteFile(filepath.Join(fdir, sub, ".keep"), nil, 0o644); err != nil {
				return err
			}
		}
		if f.dir != "" {
			if err := os.WriteFile(filepath.Join(fdir, "maildirfolder"), nil, 0o644); err != nil {
				return err
			}
		}
		if f.keywords != "" {
			if err := os.WriteFile(filepath.Join(fdir, "dovecot-keywords"), []byte(f.keywords), 0o644); err != nil {
				return err
			}
		}
		for _, m := range f.msgs {
			q++
			b := corpus(m.file)
			d := date(b)
			// W= is the size with CRLF line endings, as IMAP counts it.
			vsize := len(b) + bytes.Count(b, []byte("\n")) - bytes.Count(b, []byte("\r\n"))
			name := fmt.Sprintf("%d.M%dP%dQ%d.mail.example.com,S=%d,W=%d", d.Unix()+7, 100000+q*7919, 2400+q, q, len(b), vsize)
			sub := "new"
			if m.flags != "" {
				sub, name = "cur", name+":2,"+m.flags
			}
			path := filepath.Join(fdir, sub, name)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			if err := os.Chtimes(path, d, d); err != nil {
				return err
			}
		}
	}
	subs := "V\t2\n\nINBOX\nSent\nEntw&APw-rfe\nArchive\t2024\tQ1\nQ&-A\n"
	return os.WriteFile(filepath.Join(root, "subscriptions"), []byte(subs), 0o644)
}

// mboxMsg is a message of an mbox file: its From_ line, the mbox headers a
// mail program added at the end of its header section, and a corpus file.
type mboxMsg struct {
	from, headers, file string
}

// mboxTree writes a Thunderbird-style tree of mbox files, with the state
// headers Dovecot, mutt and Thunderbird write.
func mboxTree(root string) error {
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	files := []struct {
		path string
		msgs []mboxMsg
	}{
		{"INBOX", []mboxMsg{
			{"From bounces+842@lists.example.org Mon Jan  8 08:14:03 2024", "Status: RO\nX-Status: A\nX-Keywords:                                              \nX-UID: 1\nX-IMAPbase: 1704700000 0000000005\n", "01-plain-crlf.eml"},
			{"From carol@example.net Tue Jan  9 16:02:11 2024", "Status: RO\nX-Keywords: $label1\nX-UID: 2\n", "02-bare-lf.eml"},
			{"From dieter@example.de  Wed Jan 10 10:45:30 2024", "Status: O\nX-Status: F\nX-UID: 3\n", "03-latin1-8bit.eml"},
			{"From frank@example.org Wed Jan 17 14:22:40 2024 +0100", "Status: RO\nX-UID: 4\n", "09-from-lines.eml"},
			{"From judy@example.net Mon Jan 22 17:40:03 2024", "", "14-no-final-newline.eml"},
		}},
		{"Sent", []mboxMsg{
			{"From - Thu Jan 25 18:03:27 2024", "X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n", "17-sent-reply.eml"},
		}},
		{"Archive", nil},
		{"Archive.sbd/2023", []mboxMsg{
			{"From henrik@example.se Sat Jan 20 11:10:55 2024", "Status: RO\nX-Keywords: Project-X, $label1\n", "12-folded-encoded.eml"},
			{"From MAILER-DAEMON Tue Jan 23 08:55:33 2024", "Status: RO\nX-Status: D\n", "15-forwarded-rfc822.eml"},
		}},
	}
	for _, f := range files {
		path := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var b bytes.Buffer
		for _, m := range f.msgs {
			b.WriteString(m.from + "\n")
			b.Write(mboxrdQuote(insertHeaders(corpus(m.file), m.headers)))
			if !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// insertHeaders puts headers (LF lines) before the empty line that ends
// m's header section, in m's line ending.
func insertHeaders(m []byte, headers string) []byte {
	if headers == "" {
		return m
	}
	eol := "\n"
	if i := bytes.IndexByte(m, '\n'); i > 0 && m[i-1] == '\r' {
		eol = "\r\n"
		headers = strings.ReplaceAll(headers, "\n", "\r\n")
	}
	i := bytes.Index(m, []byte(eol+eol))
	if i < 0 {
		log.Fatal("message without header/body separator")
	}
	i += len(eol)
	return append(append(append([]byte{}, m[:i]...), headers...), m[i:]...)
}

var fromLine = regexp.MustCompile(`(?m)^(>*From )`)

func mboxrdQuote(m []byte) []byte {
	return fromLine.ReplaceAll(m, []byte(">$1"))
}
