package transform

import (
	"bytes"
	"fmt"
	"strings"
)

// foldHeaderSection folds every line of a header section that is longer
// than limit bytes at whitespace, inserting a line break before a blank:
// unfolding (RFC 5322 section 2.2.3) gives back the very same field. It
// folds only after the colon, outside quoted strings (go-message collapses
// the blanks around a fold, which would change a quoted boundary), between a
// word and the blanks after it, and never leaves a line of blanks only. It
// returns the section, what it folded and what stays long, each line
// prefixed with label.
func foldHeaderSection(section []byte, limit int, label string) (out []byte, folded, unfixed []string) {
	fields, tail := splitHeader(section)
	nl := sectionLineBreak(section)
	out = make([]byte, 0, len(section)+64)
	for _, f := range fields {
		o, longest, left := foldField(f.raw, limit, nl)
		out = append(out, o...)
		name := f.name
		if name == "" {
			name = "(malformed line)"
		}
		if len(o) != len(f.raw) {
			folded = append(folded, fmt.Sprintf("%s %s: line of %d bytes folded at whitespace", label, name, longest))
		}
		if left > 0 {
			unfixed = append(unfixed, fmt.Sprintf("%s %s: line of %d bytes has no blank to fold at; left as is", label, name, left))
		}
	}
	return append(out, tail...), folded, unfixed
}

// foldField folds one field. It returns the field, the longest line it had
// and the longest line it could not fold under limit (0 when none).
func foldField(raw []byte, limit int, nl []byte) (out []byte, longest, left int) {
	lines := splitLines(raw)
	for _, l := range lines {
		longest = max(longest, len(l.data))
	}
	if longest <= limit {
		return raw, longest, 0
	}
	out = make([]byte, 0, len(raw)+len(raw)/limit*len(nl)+8)
	colon := bytes.IndexByte(raw, ':')
	var q quoteState
	for n, l := range lines {
		from := 0
		if n == 0 {
			from = colon + 1
		}
		allowed := q.foldPoints(l.data, from)
		brk := l.term
		if brk == nil {
			brk = nl
		}
		cuts := chooseFolds(allowed, len(l.data), limit)
		// A line that cannot be brought under the limit is left whole:
		// the server refuses it either way.
		prev := 0
		for _, cut := range append(cuts, len(l.data)) {
			if cut-prev > limit {
				left, cuts = max(left, len(l.data)), nil
				break
			}
			prev = cut
		}
		start := 0
		for _, cut := range cuts {
			out = append(out, l.data[start:cut]...)
			out = append(out, brk...)
			start = cut
		}
		out = append(out, l.data[start:]...)
		out = append(out, l.term...)
	}
	return out, longest, left
}

// chooseFolds picks fold points among allowed (ascending) so that each
// piece is at most limit bytes where possible: the last allowed point that
// fits, or else the first one beyond (the caller then gives up on the line).
func chooseFolds(allowed []int, n, limit int) []int {
	var cuts []int
	start, k := 0, 0
	for n-start > limit {
		for k < len(allowed) && allowed[k] <= start {
			k++
		}
		best := -1
		for j := k; j < len(allowed) && allowed[j] <= start+limit; j++ {
			best = allowed[j]
		}
		if best < 0 {
			if k == len(allowed) {
				break
			}
			best = allowed[k]
		}
		cuts = append(cuts, best)
		start = best
	}
	return cuts
}

// quoteState follows quoted strings across the lines of one field.
type quoteState struct {
	inQuote, escaped bool
}

// foldPoints returns where line may be folded: before a blank that follows
// a non-blank, at or after from, outside quoted strings, with something
// other than blanks after it on the line. It advances the quote state over
// the line.
func (q *quoteState) foldPoints(line []byte, from int) []int {
	last := len(line) - 1
	for last >= 0 && isWSP(line[last]) {
		last--
	}
	var points []int
	for i, c := range line {
		if i >= from && i > 0 && i < last && !q.inQuote && isWSP(c) && !isWSP(line[i-1]) {
			points = append(points, i)
		}
		if i < from-1 {
			continue // the field name: no quoting there
		}
		switch {
		case q.escaped:
			q.escaped = false
		case q.inQuote && c == '\\':
			q.escaped = true
		case c == '"':
			q.inQuote = !q.inQuote
		}
	}
	return points
}

// rawLine is one line: its bytes and its line break (nil for a last line
// without one).
type rawLine struct {
	data, term []byte
}

func splitLines(b []byte) []rawLine {
	var lines []rawLine
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, rawLine{data: b})
			break
		}
		l := rawLine{data: b[:i], term: lineLF}
		if i > 0 && b[i-1] == '\r' {
			l = rawLine{data: b[:i-1], term: lineCRLF}
		}
		lines = append(lines, l)
		b = b[i+1:]
	}
	return lines
}

// setQuotedPrintable returns a header section whose Content-Transfer-Encoding
// says quoted-printable: the first such field replaced, any others removed,
// one added at the end when there was none, and with addMIMEVersion a
// "MIME-Version: 1.0" when the section has none (a message that was not MIME
// needs it for its new Content-Transfer-Encoding to count). Every other
// field stays as it was.
func setQuotedPrintable(section []byte, addMIMEVersion bool) []byte {
	fields, tail := splitHeader(section)
	nl := string(sectionLineBreak(section))
	out := make([]byte, 0, len(section)+64)
	set, hasVersion := false, false
	for _, f := range fields {
		if strings.EqualFold(f.name, "Content-Transfer-Encoding") {
			if !set {
				out = append(out, "Content-Transfer-Encoding: quoted-printable"+nl...)
				set = true
			}
			continue
		}
		hasVersion = hasVersion || strings.EqualFold(f.name, "MIME-Version")
		out = append(out, f.raw...)
	}
	if addMIMEVersion && !hasVersion {
		out = append(out, "MIME-Version: 1.0"+nl...)
	}
	if !set {
		out = append(out, "Content-Transfer-Encoding: quoted-printable"+nl...)
	}
	return append(out, tail...)
}
