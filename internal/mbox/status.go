package mbox

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// mboxHeaders are the headers mbox programs (UW-IMAP, Dovecot, mutt, Pine)
// keep state in. They are not part of the message as it was sent: a reader
// takes them out and turns them into flags, a writer writes them from flags.
// Content-Length is not among them: senders use it too, and mboxrd does not
// need it to find where a message ends.
var mboxHeaders = []string{"status", "x-status", "x-keywords", "x-uid", "x-imap", "x-imapbase"}

// Thunderbird keeps flags in X-Mozilla-Status (a hex bit field) and tags in
// X-Mozilla-Keys. They are read as extra flags but left in the message:
// Thunderbird needs them, and a writer here does not write them.
var mozillaBits = []struct {
	bit  uint64
	flag string
}{
	{0x0001, format.FlagSeen},
	{0x0002, format.FlagAnswered},
	{0x0004, format.FlagFlagged},
	{0x0008, format.FlagDeleted}, // expunged, but still in the file until compacted
	{0x1000, format.FlagForwarded},
}

// headerName returns the lower-case field name of header line line, or ""
// if line does not start a header field.
func headerName(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	name := bytes.TrimRight(line[:i], " \t")
	if len(name) == 0 || bytes.ContainsAny(name, " \t\r\n") {
		return ""
	}
	return strings.ToLower(string(name))
}

func isContinuation(line []byte) bool {
	return len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
}

// statusResult is what filterHeader found in a header section.
type statusResult struct {
	flags  format.Flags
	pseudo bool // an X-IMAP header: UW-IMAP's folder data message
}

// filterHeader appends to dst the header section hdr without its mbox
// headers (and their continuation lines), and returns the flags those and
// Thunderbird's headers hold.
func filterHeader(dst, hdr []byte) ([]byte, statusResult) {
	var res statusResult
	var flags []string
	var field string // the mbox header being read, with its continuation lines
	var value []byte
	finish := func() {
		if field != "" {
			flags = append(flags, headerFlags(field, string(value))...)
		}
		field, value = "", value[:0]
	}
	for len(hdr) > 0 {
		var line []byte
		line, hdr = cutLine(hdr)
		if field != "" && isContinuation(line) {
			if isMboxHeader(field) {
				value = append(value, trimEOL(line)...)
				continue
			}
			value = append(value, trimEOL(line)...)
			dst = append(dst, line...)
			continue
		}
		finish()
		name := headerName(line)
		switch {
		case isMboxHeader(name):
			field = name
			value = append(value, trimEOL(line[bytes.IndexByte(line, ':')+1:])...)
			if name == "x-imap" {
				res.pseudo = true
			}
			continue
		case name == "x-mozilla-status" || name == "x-mozilla-keys":
			field = name
			value = append(value, trimEOL(line[bytes.IndexByte(line, ':')+1:])...)
		}
		dst = append(dst, line...)
	}
	finish()
	res.flags = format.NormalizeFlags(flags)
	return dst, res
}

func isMboxHeader(name string) bool {
	for _, h := range mboxHeaders {
		if name == h {
			return true
		}
	}
	return false
}

func trimEOL(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }

// isKeywordSep reports whether r separates keywords in X-Keywords: commas
// and spaces, and controls, which no keyword may hold.
func isKeywordSep(r rune) bool { return r <= ' ' || r == ',' || r == 0x7f }

// headerFlags returns the flags one state header holds.
func headerFlags(name, value string) []string {
	var flags []string
	switch name {
	case "status":
		// O only says the message is no longer new.
		if strings.ContainsAny(value, "Rr") {
			flags = append(flags, format.FlagSeen)
		}
	case "x-status":
		for _, c := range strings.ToUpper(value) {
			switch c {
			case 'A':
				flags = append(flags, format.FlagAnswered)
			case 'F':
				flags = append(flags, format.FlagFlagged)
			case 'T':
				flags = append(flags, format.FlagDraft)
			case 'D':
				flags = append(flags, format.FlagDeleted)
			}
		}
	case "x-keywords", "x-mozilla-keys":
		flags = append(flags, strings.FieldsFunc(value, isKeywordSep)...)
	case "x-mozilla-status":
		bits, err := strconv.ParseUint(strings.TrimSpace(value), 16, 32)
		if err != nil {
			return nil
		}
		for _, b := range mozillaBits {
			if bits&b.bit != 0 {
				flags = append(flags, b.flag)
			}
		}
	}
	return flags
}

// statusHeaders returns the Status, X-Status and X-Keywords lines for flags,
// each ending in eol. Status is always written: without it mutt and others
// show the message as new.
func statusHeaders(flags format.Flags, eol string) (string, error) {
	var b strings.Builder
	b.WriteString("Status: ")
	if flags.Has(format.FlagSeen) {
		b.WriteString("R")
	}
	b.WriteString("O" + eol)
	var xs string
	for _, f := range []struct {
		flag   string
		letter string
	}{{format.FlagAnswered, "A"}, {format.FlagFlagged, "F"}, {format.FlagDraft, "T"}, {format.FlagDeleted, "D"}} {
		if flags.Has(f.flag) {
			xs += f.letter
		}
	}
	if xs != "" {
		b.WriteString("X-Status: " + xs + eol)
	}
	var kws []string
	for _, f := range format.NormalizeFlags(flags) {
		switch f {
		case format.FlagSeen, format.FlagAnswered, format.FlagFlagged, format.FlagDraft, format.FlagDeleted:
			continue
		}
		if f == "" || strings.ContainsFunc(f, isKeywordSep) {
			return "", fmt.Errorf("keyword %q: %w", f, ErrKeyword)
		}
		kws = append(kws, f)
	}
	if len(kws) > 0 {
		b.WriteString("X-Keywords: " + strings.Join(kws, " ") + eol)
	}
	return b.String(), nil
}

// cutLine splits b after its first line feed: the line, with its line
// ending, and the rest. Without a line feed, b is all line.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}
