package testserver

import (
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/memimap"
)

// MemoryIMAP is go-imap's in-memory IMAP server on 127.0.0.1 (see
// internal/memimap), for tests that need an IMAP server but not Dovecot's
// behaviour. It accepts logins without TLS, uses "/" as separator and has no
// prefix.
type MemoryIMAP struct {
	Addr string // IMAP without TLS

	passwords accounts
}

// StartMemoryIMAP starts an in-memory IMAP server with the given users, each
// with an empty INBOX, and closes it when the test ends.
func StartMemoryIMAP(t testing.TB, users ...User) *MemoryIMAP {
	t.Helper()
	passwords, err := newAccounts(users)
	if err != nil {
		t.Fatalf("testserver: memory IMAP users: %v", err)
	}
	logger := &testLogger{t: t}
	srv, err := memimap.Start(logger)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(func() {
		srv.Close()
		logger.stop()
	})
	for _, u := range users {
		if err := srv.AddUser(u.Name, u.Password); err != nil {
			t.Fatalf("testserver: %v", err)
		}
	}
	return &MemoryIMAP{Addr: srv.Addr, passwords: passwords}
}

// Login dials Addr, logs in as user and closes the connection when the test
// ends.
func (m *MemoryIMAP) Login(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	return loginForTest(t, m.Addr, user, m.passwords.password(t, user))
}

// Append appends msgs to folder of user over IMAP, creating the folder if it
// is missing, and returns the assigned UIDs.
func (m *MemoryIMAP) Append(t testing.TB, user, folder string, msgs ...Message) []imap.UID {
	t.Helper()
	var uids []imap.UID
	err := withSession(m.Addr, user, m.passwords.password(t, user), func(c *imapclient.Client) (err error) {
		uids, err = appendMessages(c, folder, msgs)
		return err
	})
	if err != nil {
		t.Fatalf("testserver: memory IMAP append for %s: %v", user, err)
	}
	return uids
}

// CreateFolder creates folder name for user; an existing folder is fine.
func (m *MemoryIMAP) CreateFolder(t testing.TB, user, name string, subscribe bool) {
	t.Helper()
	err := withSession(m.Addr, user, m.passwords.password(t, user), func(c *imapclient.Client) error {
		return createFolder(c, name, subscribe)
	})
	if err != nil {
		t.Fatalf("testserver: memory IMAP create folder for %s: %v", user, err)
	}
}

// testLogger routes the server's error log into the test log until the
// test ends. imapserver's Close does not wait for connection goroutines, and
// testing panics on Logf after a test has completed.
type testLogger struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (l *testLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("memory IMAP: "+format, args...)
	}
}

// stop silences the logger for good.
func (l *testLogger) stop() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}
