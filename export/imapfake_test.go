package export

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeIMAPMessage is a message of fakeIMAPServer's one folder. date is
// sent as the INTERNALDATE item exactly as written ("NIL" included).
type fakeIMAPMessage struct {
	uid  int
	date string
	body string
}

// fakeIMAPServer is an IMAP server for what Dovecot will not do: send an
// INTERNALDATE go-imap cannot parse. It serves one folder, INBOX, read-only
// and answers only what an export asks. It counts connections.
type fakeIMAPServer struct {
	addr string
	msgs []fakeIMAPMessage

	mu    sync.Mutex
	conns int
}

func startFakeIMAPServer(t *testing.T, msgs []fakeIMAPMessage) *fakeIMAPServer {
	t.Helper()
	s := &fakeIMAPServer{msgs: msgs}
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
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb := strings.ToUpper(cmd)
		switch {
		case strings.HasPrefix(verb, "CAPABILITY"):
			fmt.Fprintf(w, "* CAPABILITY IMAP4rev1\r\n%s OK done\r\n", tag)
		case strings.HasPrefix(verb, "LOGIN"), strings.HasPrefix(verb, "NOOP"):
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case strings.HasPrefix(verb, "LIST"):
			fmt.Fprintf(w, "* LIST () \"/\" INBOX\r\n%s OK done\r\n", tag)
		case strings.HasPrefix(verb, "EXAMINE"), strings.HasPrefix(verb, "SELECT"):
			fmt.Fprintf(w, "* %d EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n%s OK [READ-ONLY] done\r\n",
				len(s.msgs), s.msgs[len(s.msgs)-1].uid+1, tag)
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
