package memimap

import (
	"fmt"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Server is an in-memory IMAP server listening on 127.0.0.1 until Close.
type Server struct {
	Addr string // IMAP without TLS

	mem  *imapmemserver.Server
	srv  *imapserver.Server
	done chan struct{}
}

// Start listens on a free loopback port and serves until Close. logger gets
// the server's connection errors; nil means imapserver's default (stderr).
func Start(logger imapserver.Logger) (*Server, error) {
	mem := imapmemserver.New()
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
		},
		// imapmemserver implements IMAP4rev2, which includes UIDPLUS,
		// MOVE, NAMESPACE and ESEARCH.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only
		Logger:       logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("memimap: listen on loopback: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), mem: mem, srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		srv.Serve(ln)
	}()
	return s, nil
}

// AddUser adds an account with an empty, subscribed INBOX.
func (s *Server) AddUser(name, password string) error {
	u := imapmemserver.NewUser(name, password)
	// Unlike a real server, imapmemserver starts users without INBOX.
	if err := u.Create("INBOX", nil); err != nil {
		return fmt.Errorf("memimap: INBOX for %s: %w", name, err)
	}
	if err := u.Subscribe("INBOX"); err != nil {
		return fmt.Errorf("memimap: subscribe INBOX for %s: %w", name, err)
	}
	s.mem.AddUser(u)
	return nil
}

// Close stops listening and waits for the accept loop to end. imapserver
// does not wait for connection goroutines, so a logger may still be called
// for a moment after Close returns.
func (s *Server) Close() {
	s.srv.Close()
	<-s.done
}
