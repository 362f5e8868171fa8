package mailconn

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

// fakeIMAP is a scripted IMAP server for what real servers do only when
// they misbehave or are configured oddly: BYE greetings, responses
// imapclient cannot parse, LOGINDISABLED, dropped connections.
type fakeIMAP struct {
	Addr string

	mu       sync.Mutex
	commands []string // every command line received, in order
}

// fakeReply answers one command line ("T1 NOOP"): the lines to send
// (CRLF added), and whether to hang up after them. ok is false for
// commands it leaves to the defaults (CAPABILITY, LOGIN, AUTHENTICATE,
// LOGOUT, which all succeed).
type fakeReply func(tag, command string) (lines []string, hangUp, ok bool)

func startFakeIMAP(t *testing.T, greeting, caps string, reply fakeReply) *fakeIMAP {
	t.Helper()
	f := &fakeIMAP{}
	f.Addr = listenFake(t, func(c net.Conn) { f.serve(c, greeting, caps, reply) })
	return f
}

// listenFake accepts connections on a loopback port, each served by serve
// in a goroutine of its own, until the test ends; it returns the address.
func listenFake(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	return testserver.ServeTCP(t, serve)
}

func (f *fakeIMAP) serve(c net.Conn, greeting, caps string, reply fakeReply) {
	defer c.Close()
	if _, err := io.WriteString(c, greeting+"\r\n"); err != nil {
		return
	}
	if strings.HasPrefix(greeting, "* BYE") {
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.commands = append(f.commands, line)
		f.mu.Unlock()
		tag, cmd, _ := strings.Cut(line, " ")
		lines, hangUp, ok := reply(tag, cmd)
		if !ok {
			lines, hangUp = defaultFakeReply(tag, cmd, caps)
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

func defaultFakeReply(tag, cmd, caps string) (lines []string, hangUp bool) {
	verb, _, _ := strings.Cut(cmd, " ")
	switch strings.ToUpper(verb) {
	case "CAPABILITY":
		return []string{"* CAPABILITY " + caps, tag + " OK done"}, false
	case "LOGIN", "AUTHENTICATE":
		return []string{tag + " OK logged in"}, false
	case "LOGOUT":
		return []string{"* BYE bye", tag + " OK done"}, true
	default:
		return []string{tag + " OK done"}, false
	}
}

// received returns the command lines the server got so far.
func (f *fakeIMAP) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.commands...)
}

// noReply leaves every command to the defaults.
func noReply(string, string) ([]string, bool, bool) { return nil, false, false }

// wireRecorder is an Options.DialContext that sends every connection to
// target (so tests can use host names that are not loopback), counts the
// connections and keeps the bytes the client sent, to check what crossed
// the wire in clear.
type wireRecorder struct {
	target string

	mu    sync.Mutex
	dials int
	sent  strings.Builder
}

func (w *wireRecorder) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, w.target)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.dials++
	w.mu.Unlock()
	return &recordedConn{Conn: c, w: w}, nil
}

func (w *wireRecorder) sentBytes() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent.String()
}

func (w *wireRecorder) dialCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dials
}

type recordedConn struct {
	net.Conn
	w *wireRecorder
}

func (c *recordedConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	c.w.sent.Write(p)
	c.w.mu.Unlock()
	return c.Conn.Write(p)
}

// passwordEnv puts pw into a fresh environment variable and returns a
// PasswordSource that reads it.
func passwordEnv(t *testing.T, pw string) PasswordSource {
	t.Helper()
	name := "MAILFERRY_TEST_PW_" + strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	t.Setenv(name, pw)
	return PasswordSource{Env: name}
}
