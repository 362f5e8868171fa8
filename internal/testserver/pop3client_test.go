package testserver

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// pop3Conn is just enough of a POP3 client (RFC 1939, 2449, 2595) to check
// the test server.
type pop3Conn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// dialPOP3 connects, over implicit TLS if cfg is not nil, and returns the
// connection and the greeting.
func dialPOP3(t *testing.T, addr string, cfg *tls.Config) (*pop3Conn, string) {
	t.Helper()
	var conn net.Conn
	var err error
	if cfg != nil {
		conn, err = tls.Dial("tcp", addr, cfg)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial POP3 %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	p := &pop3Conn{t: t, conn: conn, r: bufio.NewReader(conn)}
	return p, p.status("greeting")
}

func (p *pop3Conn) readLine() string {
	p.t.Helper()
	line, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("POP3 read: %v", err)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// status reads a status line and fails the test unless it is +OK.
func (p *pop3Conn) status(what string) string {
	p.t.Helper()
	line := p.readLine()
	if !strings.HasPrefix(line, "+OK") {
		p.t.Fatalf("POP3 %s: %q", what, line)
	}
	return line
}

// cmd sends a command and returns its +OK status line.
func (p *pop3Conn) cmd(line string) string {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(line + "\r\n")); err != nil {
		p.t.Fatalf("POP3 write %q: %v", line, err)
	}
	return p.status(strings.Fields(line)[0])
}

// multi sends a command whose answer is a dot-terminated list.
func (p *pop3Conn) multi(line string) []string {
	p.t.Helper()
	p.cmd(line)
	var lines []string
	for {
		l := p.readLine()
		if l == "." {
			return lines
		}
		lines = append(lines, strings.TrimPrefix(l, "."))
	}
}

// startTLS upgrades the connection with STLS.
func (p *pop3Conn) startTLS(cfg *tls.Config) {
	p.t.Helper()
	p.cmd("STLS")
	tc := tls.Client(p.conn, cfg)
	if err := tc.Handshake(); err != nil {
		p.t.Fatalf("STLS handshake: %v", err)
	}
	p.conn = tc
	p.r = bufio.NewReader(tc)
}
