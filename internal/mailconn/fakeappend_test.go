package mailconn

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeAppendIMAP is a scripted IMAP server that reads literals, for what
// an Appender must cope with beyond Dovecot's settings: a server without
// LITERAL+ or BINARY, a refusal instead of a continuation, PREAUTH. It
// takes every login and mailbox.
type fakeAppendIMAP struct {
	Addr           string
	greeting, caps string
	// maxSize refuses larger messages: a synchronizing literal with a
	// tagged NO instead of "+", a non-synchronizing one with a NO once
	// read. 0 means no limit.
	maxSize int64

	mu         sync.Mutex
	commands   []fakeCommand
	violations []string // what the client did wrong
	uid        uint32
}

// fakeCommand is one command received. line holds the command's lines
// joined, literal headers in place but not their bytes.
type fakeCommand struct {
	tag, verb, line string
	literals        []fakeLiteral
	refused         bool // a synchronizing literal was refused, ending it
}

type fakeLiteral struct {
	binary, sync bool
	data         []byte
}

var literalHeader = regexp.MustCompile(`(~?)\{(\d+)(\+?)\}$`)

func startFakeAppendIMAP(t *testing.T, greeting, caps string, maxSize int64) *fakeAppendIMAP {
	t.Helper()
	f := &fakeAppendIMAP{greeting: greeting, caps: caps, maxSize: maxSize}
	f.Addr = listenFake(t, f.serve)
	t.Cleanup(func() {
		for _, v := range f.seen().violations {
			t.Errorf("fake server: %s", v)
		}
	})
	return f
}

func (f *fakeAppendIMAP) serve(c net.Conn) {
	defer c.Close()
	if _, err := io.WriteString(c, f.greeting+"\r\n"); err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		cmd, err := f.readCommand(c, r)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.commands = append(f.commands, cmd)
		f.mu.Unlock()
		if cmd.refused {
			continue
		}
		lines, hangUp, err := f.reply(c, r, cmd)
		if err != nil {
			return
		}
		for _, l := range lines {
			if _, err := io.WriteString(c, l+"\r\n"); err != nil {
				return
			}
		}
		if hangUp {
			return
		}
	}
}

// readCommand reads a command with its literals, answering synchronizing
// ones with "+" or, over maxSize, with the command's NO.
func (f *fakeAppendIMAP) readCommand(c net.Conn, r *bufio.Reader) (fakeCommand, error) {
	var cmd fakeCommand
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return cmd, err
		}
		line = strings.TrimSuffix(line, "\r\n")
		if cmd.tag == "" {
			var rest string
			cmd.tag, rest, _ = strings.Cut(line, " ")
			verb, _, _ := strings.Cut(rest, " ")
			cmd.verb = strings.ToUpper(verb)
		}
		cmd.line += line
		m := literalHeader.FindStringSubmatch(line)
		if m == nil {
			return cmd, nil
		}
		n, _ := strconv.ParseInt(m[2], 10, 64)
		lit := fakeLiteral{binary: m[1] == "~", sync: m[3] == ""}
		if lit.sync {
			// Whatever is here already was sent without waiting.
			if r.Buffered() > 0 {
				f.violate("bytes sent before the continuation: " + line)
			}
			if f.maxSize > 0 && n > f.maxSize {
				cmd.refused = true
				_, err := io.WriteString(c, cmd.tag+" NO [LIMIT] Mail size is too large\r\n")
				return cmd, err
			}
			if _, err := io.WriteString(c, "+ OK\r\n"); err != nil {
				return cmd, err
			}
		} else if !strings.Contains(f.caps, "LITERAL+") && !(strings.Contains(f.caps, "LITERAL-") && n <= 4096) {
			f.violate("non-synchronizing literal the server does not take: " + line)
		}
		if lit.binary && !strings.Contains(f.caps, "BINARY") {
			f.violate("binary literal without BINARY: " + line)
		}
		lit.data = make([]byte, n)
		if _, err := io.ReadFull(r, lit.data); err != nil {
			return cmd, err
		}
		cmd.literals = append(cmd.literals, lit)
	}
}

func (f *fakeAppendIMAP) reply(c net.Conn, r *bufio.Reader, cmd fakeCommand) (lines []string, hangUp bool, err error) {
	switch cmd.verb {
	case "CAPABILITY":
		return []string{"* CAPABILITY " + f.caps, cmd.tag + " OK done"}, false, nil
	case "AUTHENTICATE":
		if len(strings.Fields(cmd.line)) == 3 { // no initial response
			if _, err := io.WriteString(c, "+ \r\n"); err != nil {
				return nil, false, err
			}
			resp, err := r.ReadString('\n')
			if err != nil {
				return nil, false, err
			}
			f.mu.Lock()
			f.commands[len(f.commands)-1].line += " " + strings.TrimSuffix(resp, "\r\n")
			f.mu.Unlock()
		}
		return []string{cmd.tag + " OK logged in"}, false, nil
	case "LOGIN":
		return []string{cmd.tag + " OK logged in"}, false, nil
	case "SELECT":
		// Untagged data, one line with a literal, that the client drops.
		return []string{"* FLAGS (\\Seen)", "* 2 EXISTS", "* OK [UIDVALIDITY 7] ok", "* 1 FETCH (BODY[] {3}\r\nabc)", cmd.tag + " OK [READ-WRITE] selected"}, false, nil
	case "APPEND":
		return []string{f.appended(cmd)}, false, nil
	case "LOGOUT":
		return []string{"* BYE bye", cmd.tag + " OK done"}, true, nil
	}
	f.violate("unknown command: " + cmd.line)
	return []string{cmd.tag + " BAD unknown command"}, false, nil
}

// appended is the answer to an APPEND read whole.
func (f *fakeAppendIMAP) appended(cmd fakeCommand) string {
	for _, l := range cmd.literals {
		if f.maxSize > 0 && int64(len(l.data)) > f.maxSize {
			return cmd.tag + " NO [LIMIT] Mail size is too large"
		}
	}
	if len(cmd.literals) == 0 {
		return cmd.tag + " BAD no message"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	first := f.uid + 1
	f.uid += uint32(len(cmd.literals))
	return fmt.Sprintf("%s OK [APPENDUID 7 %d:%d] appended", cmd.tag, first, f.uid)
}

func (f *fakeAppendIMAP) violate(what string) {
	f.mu.Lock()
	f.violations = append(f.violations, what)
	f.mu.Unlock()
}

// fakeRecord is what a fakeAppendIMAP received so far.
type fakeRecord struct {
	commands   []fakeCommand
	violations []string
}

func (f *fakeAppendIMAP) seen() fakeRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeRecord{append([]fakeCommand(nil), f.commands...), append([]string(nil), f.violations...)}
}

// appends returns the APPEND commands received, in order.
func (f *fakeAppendIMAP) appends() []fakeCommand {
	var out []fakeCommand
	for _, c := range f.seen().commands {
		if c.verb == "APPEND" {
			out = append(out, c)
		}
	}
	return out
}
