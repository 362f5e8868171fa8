package demo

import "github.com/mailferry/mailferry/internal/memimap"

// startServer starts an in-memory IMAP server with one user.
func startServer(user, password string) (*memimap.Server, error) {
	s, err := memimap.Start(nil)
	if err != nil {
		return nil, err
	}
	if err := s.AddUser(user, password); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
