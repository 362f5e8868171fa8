package importer

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/testserver"
)

// throttleProxy stands between the Appender and Dovecot and answers the
// first few APPEND commands itself, as Office 365 does when a client goes
// too fast: "NO Request is throttled. Suggested Backoff Time: N
// milliseconds". The APPEND never reaches the server. It hides STARTTLS
// from the client, which then speaks plaintext on loopback.
type throttleProxy struct {
	addr   string
	mu     sync.Mutex
	left   int // APPENDs still to throttle
	answer string
}

var appendLine = regexp.MustCompile(`^(\S+) APPEND `)
var literalAtEnd = regexp.MustCompile(`~?\{(\d+)(\+?)\}\r\n$`)

func startThrottleProxy(t *testing.T, target string, appends int, backoffMS int) *throttleProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &throttleProxy{addr: ln.Addr().String(), left: appends,
		answer: "Request is throttled. Suggested Backoff Time: " + strconv.Itoa(backoffMS) + " milliseconds"}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return p
}

func (p *throttleProxy) serve(client net.Conn, target string) {
	defer client.Close()
	server, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer server.Close()
	var wmu sync.Mutex // over writes to the client: server lines and our answers
	toClient := func(s string) {
		wmu.Lock()
		defer wmu.Unlock()
		io.WriteString(client, s)
	}
	go func() {
		// The Appender's server sends no literals: line by line.
		br := bufio.NewReader(server)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				client.Close()
				return
			}
			// Plaintext, so that the proxy can read the APPENDs.
			toClient(strings.Replace(line, " STARTTLS", "", 1))
		}
	}()
	br := bufio.NewReader(client)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		m := appendLine.FindStringSubmatch(line)
		p.mu.Lock()
		swallow := m != nil && p.left > 0
		if swallow {
			p.left--
		}
		p.mu.Unlock()
		for {
			lit := literalAtEnd.FindStringSubmatch(line)
			if !swallow {
				server.Write([]byte(line))
			}
			if lit == nil {
				break
			}
			n, _ := strconv.ParseInt(lit[1], 10, 64)
			if lit[2] == "" {
				if !swallow {
					// The server sends the continuation.
				} else {
					toClient("+ go ahead\r\n")
				}
			}
			dst := io.Writer(server)
			if swallow {
				dst = io.Discard
			}
			if _, err := io.CopyN(dst, br, n); err != nil {
				return
			}
			if line, err = br.ReadString('\n'); err != nil {
				return
			}
		}
		if swallow {
			toClient(m[1] + " NO " + p.answer + "\r\n")
		}
	}
}

// TestImportObeysThrottling: answers asking the import to back off are
// waited out and the messages sent again; none is failed or duplicated.
func TestImportObeysThrottling(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	seed(t, src, "alice", 40)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	proxy := startThrottleProxy(t, dst.IMAPAddr, 2, 300)
	start := time.Now()
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "m.jsonl"), func(o *IMAPOptions) {
		o.DialAppender = appenderFor(t, dst, proxy.addr, "bob", "b-pw")
	})
	want := mailbox(t, src, "alice", same)
	if !rep.Complete() || rep.Appended != len(want) || rep.Throttled != 2 || rep.ThrottleWait < 300*time.Millisecond {
		t.Errorf("throttled import: appended %d of %d, throttled %d for %v, failed %v", rep.Appended, len(want), rep.Throttled, rep.ThrottleWait, rep.Failed)
	}
	if took := time.Since(start); took < rep.ThrottleWait {
		t.Errorf("the import took %v: it did not wait the %v it reports", took, rep.ThrottleWait)
	}
	if got := mailbox(t, dst, "bob", same); !slices.Equal(got, want) {
		t.Errorf("destination has %d messages, want the source's %d identical", len(got), len(want))
	}
}
