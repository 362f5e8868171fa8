package mailconn

import (
	"bytes"
	"strconv"
)

// commandTracker follows the bytes a client writes and counts the tagged
// commands in them, so that timedConn knows when an answer is owed. It
// skips literals, whose bytes are message data. go-imap's tags are "T"
// and a number; a line of an AUTHENTICATE exchange (base64, no space) or
// anything else is not counted.
type commandTracker struct {
	literal int64  // literal bytes still to skip
	head    []byte // the start of the current line
	tail    []byte // the end of the current line, for {n}
	started bool   // inside a line
}

func (t *commandTracker) see(p []byte, asked func()) {
	for len(p) > 0 {
		var seg []byte
		var eol bool
		seg, eol, p = nextSegment(p, &t.literal)
		if len(t.head) < 16 {
			t.head = append(t.head, seg[:min(len(seg), 16-len(t.head))]...)
		}
		t.tail = append(t.tail, seg...)
		if len(t.tail) > 64 {
			t.tail = append(t.tail[:0], t.tail[len(t.tail)-32:]...)
		}
		if !eol {
			continue
		}
		if !t.started && isTagged(t.head) {
			asked()
		}
		// A literal continues the same command: the line after it is
		// no new command.
		t.started = false
		line := bytes.TrimSuffix(t.tail, []byte("\r"))
		if m := literalAtEnd.FindSubmatch(line); m != nil {
			t.literal, _ = strconv.ParseInt(string(m[1]), 10, 64)
			t.started = true
		}
		t.head, t.tail = t.head[:0], t.tail[:0]
	}
}

// isTagged reports whether a line starts with one of go-imap's tags: "T",
// digits, a space.
func isTagged(head []byte) bool {
	if len(head) < 3 || head[0] != 'T' {
		return false
	}
	for i := 1; i < len(head); i++ {
		switch c := head[i]; {
		case c == ' ':
			return i > 1
		case c < '0' || c > '9':
			return false
		}
	}
	return false
}
