package testserver

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Message is one message to seed into a folder.
type Message struct {
	// Body is the raw RFC 5322 message, sent byte for byte. Dovecot's
	// Maildir stores line ends as LF and serves them as CRLF, so only
	// CRLF bodies come back unchanged.
	Body []byte
	// Flags holds system flags (imap.FlagSeen) and keywords ("$Label1",
	// "custom").
	Flags []imap.Flag
	// Date is the INTERNALDATE, sent with its zone; zero leaves the choice
	// to the server.
	Date time.Time
}

// dialTimeout bounds connection set-up so a wedged server fails the test
// quickly instead of hanging until go test's global timeout.
const dialTimeout = 10 * time.Second

// loginIMAP dials addr without TLS and logs in.
func loginIMAP(addr, user, password string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{Dialer: &net.Dialer{Timeout: dialTimeout}})
	if err != nil {
		return nil, fmt.Errorf("dial IMAP %s: %w", addr, err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP login as %s at %s: %w", user, addr, err)
	}
	return c, nil
}

// loginForTest logs in and closes the connection when the test ends.
func loginForTest(t testing.TB, addr, user, password string) *imapclient.Client {
	t.Helper()
	c, err := loginIMAP(addr, user, password)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// withSession runs fn on a fresh logged-in connection and logs out, so that
// seeding never leaves a session open that could hit the server's
// per-user connection limit.
func withSession(addr, user, password string, fn func(*imapclient.Client) error) error {
	c, err := loginIMAP(addr, user, password)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := fn(c); err != nil {
		return err
	}
	if err := c.Logout().Wait(); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// createFolder creates name, tolerating that it exists already (INBOX
// always does, special-use folders may have been created by the server).
func createFolder(c *imapclient.Client, name string, subscribe bool) error {
	if !strings.EqualFold(name, "INBOX") {
		err := c.Create(name, nil).Wait()
		var imapErr *imap.Error
		if err != nil && !(errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists) {
			return fmt.Errorf("create folder %q: %w", name, err)
		}
	}
	if subscribe {
		if err := c.Subscribe(name).Wait(); err != nil {
			return fmt.Errorf("subscribe folder %q: %w", name, err)
		}
	}
	return nil
}

// appendMessages appends msgs to folder, creating it if needed, and returns
// the UIDs the server assigned (UIDPLUS).
func appendMessages(c *imapclient.Client, folder string, msgs []Message) ([]imap.UID, error) {
	if err := createFolder(c, folder, false); err != nil {
		return nil, err
	}
	uids := make([]imap.UID, 0, len(msgs))
	for i, msg := range msgs {
		cmd := c.Append(folder, int64(len(msg.Body)), &imap.AppendOptions{Flags: msg.Flags, Time: msg.Date})
		if _, err := cmd.Write(msg.Body); err != nil {
			cmd.Close()
			return uids, fmt.Errorf("append message %d to %q: write: %w", i, folder, err)
		}
		if err := cmd.Close(); err != nil {
			return uids, fmt.Errorf("append message %d to %q: %w", i, folder, err)
		}
		data, err := cmd.Wait()
		if err != nil {
			return uids, fmt.Errorf("append message %d to %q: %w", i, folder, err)
		}
		uids = append(uids, data.UID)
	}
	return uids, nil
}
