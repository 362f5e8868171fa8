package testserver

import (
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// MemoryIMAP is go-imap's in-memory IMAP server on 127.0.0.1, for tests that
// need an IMAP server but not Dovecot's behaviour. It accepts logins without
// TLS, uses "/" as separator and has no prefix.
type MemoryIMAP struct {
	Addr string // IMAP without TLS

	// Server holds the mailboxes, for tests that want to add users or
	// reach past the protocol.
	Server *imapmemserver.Server

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
	mem := imapmemserver.New()
	for _, u := range users {
		mu := imapmemserver.NewUser(u.Name, u.Password)
		// Unlike a real server, imapmemserver starts users without INBOX.
		if err := mu.Create("INBOX", nil); err != nil {
			t.Fatalf("testserver: memory IMAP INBOX for %s: %v", u.Name, err)
		}
		if err := mu.Subscribe("INBOX"); err != nil {
			t.Fatalf("testserver: memory IMAP subscribe INBOX for %s: %v", u.Name, err)
		}
		mem.AddUser(mu)
	}
	logger := &testLogger{t: t}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		// imapmemserver implements IMAP4rev2, which includes UIDPLUS,
		// MOVE, NAMESPACE and ESEARCH.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: memory IMAP listen: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
		logger.stop()
	})
	return &MemoryIMAP{Addr: ln.Addr().String(), Server: mem, passwords: passwords}
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
