package export

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mailferry/mailferry/internal/mailconn"
)

// fakeIMAPMessage is a message of fakeIMAPServer's one folder. date is
// sent as the INTERNALDATE item exactly as written ("NIL" included).
type fakeIMAPMessage struct {
	uid  int
	date string
	body string
}

// fakeIMAPServer is an IMAP server for what Dovecot will not do: send an
// INTERNALDATE or a folder name go-imap cannot parse. It serves INBOX and
// folders named as folders says (sent as they are: quoted, or a literal
// where 8-bit), each with msgs, read-only, and answers only what an export
// asks. It counts connections.
type fakeIMAPServer struct {
	addr    string
	msgs    []fakeIMAPMessage
	folders []string

	mu    sync.Mutex
	conns int
}

func startFakeIMAPServer(t *testing.T, msgs []fakeIMAPMessage, folders ...string) *fakeIMAPServer {
	t.Helper()
	s := &fakeIMAPServer{msgs: msgs, folders: folders}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

// source returns the server's account as an export source.
func (s *fakeIMAPServer) source(t *testing.T) Source {
	t.Helper()
	t.Setenv("MAILFERRY_TEST_FAKE_IMAP", "pw")
	ep, _ := mailconn.ParseEndpoint("imap://u@" + s.addr)
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_TEST_FAKE_IMAP"}})
	if err != nil {
		t.Fatal(err)
	}
	return NewIMAPSource(IMAPConfig{Endpoint: ep.String(), Dial: dl.Dial, DialRaw: dl.DialRaw})
}

func (s *fakeIMAPServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *fakeIMAPServer) serve(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriter(c)
	defer w.Flush()
	fmt.Fprint(w, "* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
	w.Flush()
	r := bufio.NewReader(c)
	for {
		line, err := readFakeCommand(r, w)
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(line, " ")
		verb := strings.ToUpper(cmd)
		switch {
		case strings.HasPrefix(verb, "CAPABILITY"):
			fmt.Fprintf(w, "* CAPABILITY IMAP4rev1\r\n%s OK done\r\n", tag)
		case strings.HasPrefix(verb, "LOGIN"), strings.HasPrefix(verb, "NOOP"):
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case strings.HasPrefix(verb, "LIST"):
			s.list(w, tag, cmd)
		case strings.HasPrefix(verb, "EXAMINE"), strings.HasPrefix(verb, "SELECT"):
			_, name, _ := strings.Cut(cmd, " ")
			if !slices.Contains(s.folders, unquoteFake(name)) && !strings.EqualFold(name, "INBOX") {
				fmt.Fprintf(w, "%s NO no such folder\r\n", tag)
				break
			}
			fmt.Fprintf(w, "* %d EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS ()] ok\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 100] ok\r\n%s OK [READ-ONLY] done\r\n", len(s.msgs), tag)
		case strings.HasPrefix(verb, "UID FETCH"):
			s.fetch(w, tag, cmd[len("UID FETCH "):])
		case strings.HasPrefix(verb, "LOGOUT"):
			fmt.Fprintf(w, "* BYE bye\r\n%s OK done\r\n", tag)
			return
		default:
			fmt.Fprintf(w, "%s BAD unknown\r\n", tag)
		}
		w.Flush()
	}
}

// list answers LIST "" PATTERN, where PATTERN is a name or a prefix and *.
func (s *fakeIMAPServer) list(w *bufio.Writer, tag, cmd string) {
	_, pattern, _ := strings.Cut(cmd[len("LIST "):], " ")
	pattern = strings.Trim(pattern, `"`)
	prefix, wild := strings.CutSuffix(pattern, "*")
	for _, name := range append([]string{"INBOX"}, s.folders...) {
		if name == pattern || (wild && strings.HasPrefix(name, prefix)) {
			fmt.Fprintf(w, "* LIST () \"/\" %s\r\n", quoteFake(name))
		}
	}
	fmt.Fprintf(w, "%s OK done\r\n", tag)
}

// readFakeCommand reads a command line, with its literals (each asked for
// with a continuation) inlined.
func readFakeCommand(r *bufio.Reader, w *bufio.Writer) (string, error) {
	var cmd strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		i := strings.LastIndexByte(line, '{')
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(line[max(i, 0):], "}"), "{"))
		if i < 0 || !strings.HasSuffix(line, "}") || err != nil {
			cmd.WriteString(line)
			return cmd.String(), nil
		}
		fmt.Fprint(w, "+ go on\r\n")
		w.Flush()
		lit := make([]byte, n)
		if _, err := io.ReadFull(r, lit); err != nil {
			return "", err
		}
		cmd.WriteString(line[:i] + quoteString(string(lit)))
	}
}

// quoteFake writes name as IMAP does: quoted, or a literal where 8-bit.
func quoteFake(name string) string {
	for _, b := range []byte(name) {
		if b >= 0x80 {
			return fmt.Sprintf("{%d}\r\n%s", len(name), name)
		}
	}
	return quoteString(name)
}

func quoteString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// unquoteFake undoes quoteFake's quoting.
func unquoteFake(s string) string {
	s, ok := strings.CutPrefix(s, `"`)
	if !ok {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(strings.TrimSuffix(s, `"`))
}

// fetch answers UID FETCH SET (ITEMS) for the items an export asks.
func (s *fakeIMAPServer) fetch(w *bufio.Writer, tag, args string) {
	set, items, _ := strings.Cut(args, " ")
	items = strings.ToUpper(items)
	for i, m := range s.msgs {
		if !inUIDSet(set, m.uid) {
			continue
		}
		fmt.Fprintf(w, "* %d FETCH (UID %d", i+1, m.uid)
		if strings.Contains(items, "FLAGS") {
			fmt.Fprint(w, " FLAGS (\\Seen)")
		}
		if strings.Contains(items, "INTERNALDATE") {
			fmt.Fprintf(w, " INTERNALDATE %s", m.date)
		}
		if strings.Contains(items, "RFC822.SIZE") {
			fmt.Fprintf(w, " RFC822.SIZE %d", len(m.body))
		}
		if strings.Contains(items, "BODY.PEEK[]") {
			fmt.Fprintf(w, " BODY[] {%d}\r\n%s", len(m.body), m.body)
		}
		fmt.Fprint(w, ")\r\n")
	}
	fmt.Fprintf(w, "%s OK done\r\n", tag)
}

// inUIDSet reports whether uid is in an IMAP sequence set such as
// "1:*,5,7:9".
func inUIDSet(set string, uid int) bool {
	for _, r := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(r, ":")
		a, _ := strconv.Atoi(lo)
		if !isRange {
			if a == uid {
				return true
			}
			continue
		}
		b := int(^uint(0) >> 1)
		if hi != "*" {
			b, _ = strconv.Atoi(hi)
		}
		if uid >= min(a, b) && uid <= max(a, b) {
			return true
		}
	}
	return false
}
