package mailconn

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Bounds on what a server can make mailferry hold in memory. go-imap (v2
// beta.8) reads every literal that is not a message body, and every quoted
// string and atom, into memory whole: a LIST name announced as a 2 GB
// literal was 5.5 GB of RSS before these bounds.
const (
	// maxTokenLength bounds a literal that is not a message body, a
	// quoted string and an atom. Folder names, flags and capability
	// names are far shorter.
	maxTokenLength = 1 << 20
	// maxLineLength bounds one line of a response (literals excluded).
	// Lines of many short tokens are long only in SEARCH answers without
	// ESEARCH: 16 MiB holds the UIDs of a folder of two million messages.
	maxLineLength = 16 << 20
	// maxUntagged bounds the untagged responses between two tagged ones:
	// a FETCH of a folder's metadata gets one per message, and folders
	// of four million messages are rare; a server that never completes
	// a command would otherwise feed the caller until memory runs out.
	maxUntagged = 4_000_000
)

// ErrServerLimit is matched by the error of a connection that mailferry
// closed because the server sent more than it may (see maxTokenLength and
// maxLineLength). It is not a connection failure worth retrying: the server
// would send the same again. go-imap passes the error on as text, so the
// text carries the marker IsConnectionError looks for.
var ErrServerLimit = errors.New("mailconn: server exceeded a limit")

// limitError says which limit the server exceeded.
func limitError(format string, args ...any) error {
	return fmt.Errorf("%w: %s; connection closed", ErrServerLimit, fmt.Sprintf(format, args...))
}

// literalAtEnd matches the announcement of a literal at the end of a line
// (CRLF removed): {n}, {n+} (RFC 7888) or ~{n} (RFC 3516 BINARY).
var literalAtEnd = regexp.MustCompile(`~?\{([0-9]+)\+?\}$`)

// bodyItemAtEnd matches a FETCH item whose value is a message body or part
// of one, just before its literal: BODY[...], BINARY[...] with an optional
// <origin>, or RFC822, RFC822.HEADER, RFC822.TEXT.
var bodyItemAtEnd = regexp.MustCompile(`(?i)(?:(?:BODY|BINARY)\[[^\]]*\](?:<[0-9]+>)?|RFC822(?:\.HEADER|\.TEXT)?) ~?\{[0-9]+\+?\}$`)

// untaggedFetch matches the start of an untagged FETCH response.
var untaggedFetch = regexp.MustCompile(`(?i)^\* [0-9]+ FETCH `)

// untaggedExists matches "* n EXISTS", the size of the selected mailbox.
var untaggedExists = regexp.MustCompile(`(?i)^\* ([0-9]+) EXISTS\r?$`)

// fetchSlack is how many FETCH responses beyond twice the mailbox's size
// one command may get: flag changes announced unasked, a mailbox that
// grows meanwhile.
const fetchSlack = 10_000

// responseGuard follows the bytes a server sends to an IMAP client and
// fails, before the client spends memory on it, a literal that is not a
// message body over maxTokenLength, a quoted string or atom over
// maxTokenLength, or a line over maxLineLength. It parses just enough:
// line ends, literal announcements, quotes, and where a FETCH response puts
// a body. Message bodies pass whatever their size, as go-imap streams them.
type responseGuard struct {
	literal  int64 // bytes of the current literal still to come
	first    bool  // the current line is the first of its response
	fetch    bool  // the current response is an untagged FETCH
	line     int   // bytes of the current line so far
	token    int   // bytes of the current atom or quoted string
	quoted   bool  // inside a quoted string
	escaped  bool  // the previous byte was a backslash inside quotes
	head     []byte
	tail     []byte // the last bytes of the line, to find a literal's announcement
	greeting []byte // the start of the first line the server sent
	greeted  bool   // the first line is complete
	rev1     bool   // the current line offers IMAP4rev1 (see hideIMAP4rev2)
	// greetedResponse: the first response (the greeting) is complete.
	greetedResponse bool
	untagged        int   // responses since the last tagged one
	fetches         int64 // untagged FETCH responses since the last tagged one
	exists          int64 // the selected mailbox's size, from the last EXISTS

	// answered, if set, is called for the greeting and each tagged
	// response, the answers a client waits for.
	answered func()
}

const (
	guardTail     = 512 // enough for BODY[HEADER.FIELDS (...)] before a literal
	guardHead     = 32  // enough for "* 4294967295 FETCH "
	guardGreeting = 80
)

func newResponseGuard() *responseGuard { return &responseGuard{first: true} }

// see takes the next bytes from the server; its error means the
// connection must be closed.
func (g *responseGuard) see(p []byte) error {
	for len(p) > 0 {
		var seg []byte
		var eol bool
		seg, eol, p = nextSegment(p, &g.literal)
		if seg == nil && !eol {
			continue // literal bytes
		}
		if err := g.scan(seg); err != nil {
			return err
		}
		if !eol {
			return nil
		}
		if err := g.endOfLine(); err != nil {
			return err
		}
	}
	return nil
}

// nextSegment splits the next piece off a stream of IMAP lines and
// literals: literal bytes still owed (counted down in *literal; seg is nil
// and eol false), else the line bytes up to a LF (eol true, LF dropped) or
// to the end of p.
func nextSegment(p []byte, literal *int64) (seg []byte, eol bool, rest []byte) {
	if *literal > 0 {
		n := min(int64(len(p)), *literal)
		*literal -= n
		return nil, false, p[n:]
	}
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return p, false, nil
	}
	return p[:i], true, p[i+1:]
}

// scan takes bytes of a line (no LF).
func (g *responseGuard) scan(seg []byte) error {
	if !g.greeted && len(g.greeting) < guardGreeting {
		g.greeting = append(g.greeting, seg[:min(len(seg), guardGreeting-len(g.greeting))]...)
	}
	if g.line+len(seg) > maxLineLength {
		return limitError("a response line longer than %d bytes", maxLineLength)
	}
	if g.first && len(g.head) < guardHead {
		g.head = append(g.head, seg[:min(len(seg), guardHead-len(g.head))]...)
	}
	if g.first {
		hideIMAP4rev2(g.head, seg, &g.rev1)
	}
	g.line += len(seg)
	for _, b := range seg {
		switch {
		case g.quoted && g.escaped:
			g.escaped = false
		case g.quoted && b == '\\':
			g.escaped = true
		case b == '"':
			g.quoted = !g.quoted
			g.token = 0
			continue
		case !g.quoted && (b == ' ' || b == '(' || b == ')' || b == '\r'):
			g.token = 0
			continue
		}
		if g.token++; g.token > maxTokenLength {
			return limitError("an atom or quoted string longer than %d bytes", maxTokenLength)
		}
	}
	g.tail = append(g.tail, seg...)
	if len(g.tail) > 2*guardTail {
		g.tail = append(g.tail[:0], g.tail[len(g.tail)-guardTail:]...)
	}
	return nil
}

// endOfLine handles a LF: either a literal follows, or the response ends.
func (g *responseGuard) endOfLine() error {
	g.greeted = true
	if g.first {
		g.fetch = untaggedFetch.Match(g.head)
	}
	line := bytes.TrimSuffix(g.tail, []byte("\r"))
	g.line, g.token, g.quoted, g.escaped, g.rev1 = 0, 0, false, false, false
	g.tail = g.tail[:0]
	m := literalAtEnd.FindSubmatch(line)
	if m == nil {
		// The response is complete.
		tagged := len(g.head) > 0 && g.head[0] != '*' && g.head[0] != '+'
		if g.answered != nil && (tagged || !g.greetedResponse) {
			g.answered()
		}
		if g.untagged++; tagged {
			g.untagged, g.fetches = 0, 0
		} else if g.untagged > maxUntagged {
			return limitError("%d responses in a row without completing a command", maxUntagged)
		}
		if m := untaggedExists.FindSubmatch(g.head); m != nil {
			g.exists, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
		// A FETCH answers once per message (RFC 9051 7.5.2), and the
		// caller keeps something of each: more than the mailbox holds
		// is a server feeding it without end.
		if g.fetch {
			if g.fetches++; g.fetches > 2*g.exists+fetchSlack {
				return limitError("%d FETCH responses in answer to one command in a mailbox of %d messages", g.fetches, g.exists)
			}
		}
		g.greetedResponse = true
		g.first, g.fetch, g.head = true, false, g.head[:0]
		return nil
	}
	g.first = false
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		return limitError("a literal of %s bytes", m[1])
	}
	if n > maxTokenLength && !(g.fetch && bodyItemAtEnd.Match(line)) {
		return limitError("a literal of %d bytes that is not a message body (limit %d)", n, maxTokenLength)
	}
	g.literal = n
	return nil
}

// firstLine returns the start of the first line the server sent, to tell
// what kind of server answered (a POP3 greeting on an IMAP port).
func (g *responseGuard) firstLine() string {
	return string(bytes.TrimSuffix(g.greeting, []byte("\r")))
}
