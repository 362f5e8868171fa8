package pop3

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeServer plays a POP3 server from a script on one end of a net.Pipe.
// Its methods run on the script's goroutine: a failed expectation reports
// the error and ends the script, closing the connection.
type fakeServer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// expect reads one command line and checks it against want (without CRLF).
func (s *fakeServer) expect(want string) {
	line, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Errorf("fake server: waiting for %q: %v", want, err)
		runtime.Goexit()
	}
	if line != want+"\r\n" {
		s.t.Errorf("fake server: got command %q, want %q", line, want+"\r\n")
		runtime.Goexit()
	}
}

// reply sends each line followed by CRLF.
func (s *fakeServer) reply(lines ...string) {
	s.send(strings.Join(lines, "\r\n") + "\r\n")
}

// send writes raw bytes.
func (s *fakeServer) send(data string) {
	if _, err := s.conn.Write([]byte(data)); err != nil {
		// The client may have hung up on purpose; the test checks
		// what the client saw.
		runtime.Goexit()
	}
}

// testTimeout keeps a broken test from hanging until go test's own limit.
const testTimeout = 30 * time.Second

// startFake connects a client to a fake server that sends greeting and then
// runs script. The server's goroutine is waited for when the test ends.
func startFake(t testing.TB, greeting string, script func(s *fakeServer), opts ...Option) (*Client, error) {
	t.Helper()
	cc, sc := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sc.Close()
		s := &fakeServer{t: t, conn: sc, r: bufio.NewReader(sc)}
		s.send(greeting + "\r\n")
		script(s)
	}()
	t.Cleanup(func() {
		cc.Close()
		<-done
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return NewClient(ctx, cc, opts...)
}

// fakeClient is startFake with an ordinary greeting, failing the test if
// the client cannot start.
func fakeClient(t testing.TB, script func(s *fakeServer), opts ...Option) *Client {
	t.Helper()
	c, err := startFake(t, "+OK fake POP3 server ready", script, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// testContext is a context for one test, cancelled when it ends.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
