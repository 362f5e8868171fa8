package testserver

import (
	"fmt"
	"net"
)

// pickAddrs chooses the listening addresses of each start attempt; tests
// replace it to provoke a port clash.
var pickAddrs = freeLoopbackAddrs

// freeLoopbackAddrs returns n distinct 127.0.0.1 addresses whose ports were
// free a moment ago. Another process may still take one before the server
// binds it, so callers retry a start that fails with "address in use".
func freeLoopbackAddrs(n int) ([]string, error) {
	// All listeners stay open until every port is chosen, so the kernel
	// cannot hand out the same port twice.
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}()
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free loopback port: %w", err)
		}
		listeners = append(listeners, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
