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

	mu         sync.Mutex
	afterBytes int64
	cutLeft    int // connections still to cut; negative: all
	conns      int
	cuts       int
}

// StartCutProxy starts a proxy to target that cuts the first cutConns
// connections (every one if negative) after afterBytes bytes from the server,
// and stops it when the test ends.
func StartCutProxy(t testing.TB, target string, afterBytes int64, cutConns int) *CutProxy {
	t.Helper()
	p := &CutProxy{target: target, afterBytes: afterBytes, cutLeft: cutConns}
	p.Addr = ServeTCP(t, p.serve)
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

// register counts a new client connection and decides whether to cut it;
// cutAfter is negative for a connection that passes through.
func (p *CutProxy) register() (cutAfter int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns++
	if p.cutLeft == 0 {
		return -1
	}
	if p.cutLeft > 0 {
		p.cutLeft--
	}
	return p.afterBytes
}

// serve forwards one client connection; ServeTCP closes it when the test
// ends, which ends the server side too.
func (p *CutProxy) serve(client net.Conn) {
	cutAfter := p.register()
	server, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		return
	}
	defer server.Close()

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
