package pop3

import "bytes"

// dotStuff encodes msg as a server sends it in a multi-line answer
// (RFC 1939 section 3): a "." before every line that starts with ".", CRLF
// added if msg does not end with one, then the terminating ".\r\n". Only
// CRLF ends a line, as in dotReader.
func dotStuff(msg []byte) []byte {
	var b bytes.Buffer
	lineStart := true
	for i, c := range msg {
		if lineStart && c == '.' {
			b.WriteByte('.')
		}
		b.WriteByte(c)
		lineStart = c == '\n' && i > 0 && msg[i-1] == '\r'
	}
	if len(msg) > 0 && !bytes.HasSuffix(msg, []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
