package demo

import (
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// server is an in-memory IMAP server with one user on 127.0.0.1.
type server struct {
	addr string
	srv  *imapserver.Server
	done chan struct{}
}

func startServer(user, password string) (*server, error) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(user, password)
	// imapmemserver starts a user without INBOX, unlike any real server.
	if err := u.Create("INBOX", nil); err != nil {
		return nil, err
	}
	if err := u.Subscribe("INBOX"); err != nil {
		return nil, err
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &server{addr: ln.Addr().String(), srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		srv.Serve(ln)
	}()
	return s, nil
}

func (s *server) close() {
	s.srv.Close()
	<-s.done
}
