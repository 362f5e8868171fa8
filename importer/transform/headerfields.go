package transform

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// maxHeaderSection bounds the bytes of one header section a transform holds
// in memory. go-message uses the same 1 MiB default; a longer header section
// is no mail a server accepts anyway, so it is passed on untouched.
const maxHeaderSection = 1 << 20

var (
	lineCRLF = []byte("\r\n")
	lineLF   = []byte("\n")
)

// headerField is one field of a raw header section: its first line and its
// continuation lines, byte for byte, line breaks included.
type headerField struct {
	raw []byte
	// name is the field name as written, "" when the first line is not a
	// "name:" line (garbage, or a continuation line with nothing before it).
	name string
}

// splitHeader cuts a header section, as read up to and including its blank
// line, into fields and what follows the last field (the blank line, or
// nothing when the section ended without one).
func splitHeader(section []byte) (fields []headerField, tail []byte) {
	for i := 0; i < len(section); {
		end := len(section)
		if j := bytes.IndexByte(section[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		line := section[i:end]
		if isBlankLine(line) {
			return fields, section[i:]
		}
		if isWSP(line[0]) && len(fields) > 0 {
			last := &fields[len(fields)-1]
			last.raw = section[i-len(last.raw) : end]
		} else {
			fields = append(fields, headerField{raw: line, name: fieldName(line)})
		}
		i = end
	}
	return fields, nil
}

// fieldName returns the name of a field's first line: the bytes before the
// colon, without the spaces some senders put before it, when they are all
// printable ASCII (RFC 5322 section 2.2).
func fieldName(line []byte) string {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return ""
	}
	name := bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 {
		return ""
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return ""
		}
	}
	return string(name)
}

// value returns the field's value the way go-message reads it: line breaks
// removed, each line trimmed of blanks and the lines joined by one space.
// Parsing Content-Type the same way keeps our view of a MIME structure the
// one go-message (and the tests) have.
func (f headerField) value() string {
	colon := bytes.IndexByte(f.raw, ':')
	if colon < 0 {
		return ""
	}
	var b strings.Builder
	for _, l := range bytes.Split(f.raw[colon+1:], lineLF) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		l = bytes.Trim(l, " \t")
		if len(l) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.Write(l)
	}
	return b.String()
}

// firstField returns the first field called name (case-insensitively), the
// one go-message's Header.Get answers with.
func firstField(fields []headerField, name string) (headerField, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return headerField{}, false
}

// sectionLineBreak returns the line break a header section uses, taken from
// its first line, so that lines added to it look like the others. A section
// without any line break gets CRLF, what IMAP servers store.
func sectionLineBreak(section []byte) []byte {
	i := bytes.IndexByte(section, '\n')
	if i > 0 && section[i-1] == '\r' {
		return lineCRLF
	}
	if i >= 0 {
		return lineLF
	}
	return lineCRLF
}

func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// readHeaderSection reads from br up to and including the blank line that
// ends the header section, or to the end of input when there is none. When
// the section grows over limit bytes it stops and reports tooBig; the bytes
// read so far are returned so the caller can pass them on.
func readHeaderSection(br *bufio.Reader, limit int) (section []byte, tooBig bool, err error) {
	atLineStart := true
	for {
		frag, err := br.ReadSlice('\n')
		if atLineStart && isBlankLine(frag) {
			return append(section, frag...), false, nil
		}
		section = append(section, frag...)
		if len(section) > limit {
			return section, true, nil
		}
		switch err {
		case nil:
			atLineStart = true
		case bufio.ErrBufferFull:
			atLineStart = false
		case io.EOF:
			return section, false, nil
		default:
			return section, false, err
		}
	}
}
