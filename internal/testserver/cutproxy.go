package testserver

import (
	"io"
	"net"
	"sync"
	"testing"
)

// CutProxy forwards TCP connections from Addr to a target and cuts chosen
// ones once a set number of bytes has gone from the server to the client,
// closing both sides, so tests can check recovery from a connection lost in
// the middle of a response such as a FETCH literal.
//
// Which connections are cut is decided when they are accepted: the first
// cutConns ones after StartCutProxy or Arm, or all of them if cutConns is
// negative. The others pass through untouched.
type CutProxy struct {
	Addr string // where clients connect instead of the target

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu         sync.Mutex
	afterBytes int64
	cutLeft    int // connections still to cut; negative: all
	conns      int
	cuts       int
	open       map[net.Conn]struct{}
	closed     bool
}

// StartCutProxy starts a proxy to target that cuts the first cutConns
// connections (every one if negative) after afterBytes bytes from the server,
// and stops it when the test ends.
func StartCutProxy(t testing.TB, target string, afterBytes int64, cutConns int) *CutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: cut proxy listen: %v", err)
	}
	p := &CutProxy{
		Addr:       ln.Addr().String(),
		target:     target,
		ln:         ln,
		afterBytes: afterBytes,
		cutLeft:    cutConns,
		open:       make(map[net.Conn]struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Arm replaces the rule for connections accepted from now on: cut the next
// cutConns (all if negative, none if zero) after afterBytes bytes from the
// server. Connections already open keep the rule they started with.
func (p *CutProxy) Arm(afterBytes int64, cutConns int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.afterBytes, p.cutLeft = afterBytes, cutConns
}

// Conns returns how many connections the proxy has accepted.
func (p *CutProxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns
}

// Cuts returns how many connections the proxy has cut. A connection chosen
// for cutting that ends before afterBytes is not counted.
func (p *CutProxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

func (p *CutProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			// Temporary errors (EMFILE) would spin; a test proxy can
			// simply give up, which clients see as refused connections.
			return
		}
		cutAfter, ok := p.register(client)
		if !ok {
			client.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(client, cutAfter)
	}
}

// register records a new client connection and decides whether to cut it;
// cutAfter is negative for a connection that passes through.
func (p *CutProxy) register(c net.Conn) (cutAfter int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, false
	}
	p.open[c] = struct{}{}
	p.conns++
	cutAfter = -1
	if p.cutLeft != 0 {
		cutAfter = p.afterBytes
		if p.cutLeft > 0 {
			p.cutLeft--
		}
	}
	return cutAfter, true
}

// track adds a server connection to the set close must shut, unless the
// proxy is closing already.
func (p *CutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.open[c] = struct{}{}
	return true
}

func (p *CutProxy) forget(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.open, c)
	}
}

func (p *CutProxy) serve(client net.Conn, cutAfter int64) {
	defer p.wg.Done()
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		p.forget(client)
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.forget(client, server)

	// Whichever direction ends first ends the connection: IMAP and POP3
	// have no use for half-closed connections.
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(server, client)
		done <- struct{}{}
	}()
	go func() {
		if cutAfter < 0 {
			io.Copy(client, server)
		} else if _, err := io.CopyN(client, server, cutAfter); err == nil {
			p.mu.Lock()
			p.cuts++
			p.mu.Unlock()
		}
		done <- struct{}{}
	}()
	<-done
	client.Close()
	server.Close()
	<-done
}

// close stops accepting, shuts every open connection and waits for the
// proxy's goroutines.
func (p *CutProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
