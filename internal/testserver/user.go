package testserver

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// User is a mail account on a test server.
type User struct {
	Name     string
	Password string
}

// userNamePattern keeps names usable as directory names and in Dovecot's
// passwd-file, and leaves out '*', Dovecot's master-user separator. '=' and
// '+' are there for tests of names that differ only in characters a file
// name cannot hold (the Dovecot config lets auth_username_chars take any).
var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+=-]*$`)

// validate rejects accounts that the servers' user files cannot hold.
func (u User) validate() error {
	if !userNamePattern.MatchString(u.Name) {
		return fmt.Errorf("user name %q: want letters, digits and ._@+=-", u.Name)
	}
	if u.Password == "" || strings.ContainsAny(u.Password, ":\r\n") {
		return fmt.Errorf("password of %s: want a non-empty password without ':' or line breaks", u.Name)
	}
	return nil
}

// accounts maps user names to passwords.
type accounts map[string]string

// newAccounts validates users and indexes them by name.
func newAccounts(users []User) (accounts, error) {
	a := make(accounts, len(users))
	for _, u := range users {
		if err := u.validate(); err != nil {
			return nil, err
		}
		if _, dup := a[u.Name]; dup {
			return nil, fmt.Errorf("user %s listed twice", u.Name)
		}
		a[u.Name] = u.Password
	}
	return a, nil
}

// password returns the password of name, failing the test for an unknown user.
func (a accounts) password(t testing.TB, name string) string {
	t.Helper()
	pw, ok := a[name]
	if !ok {
		t.Fatalf("testserver: no user %q on this server", name)
	}
	return pw
}
