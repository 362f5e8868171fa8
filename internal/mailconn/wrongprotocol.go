package mailconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// ErrWrongProtocol is matched by dial errors where the server speaks
// another protocol than the URL's scheme says (POP3 on imap://, plaintext
// on imaps://). Redialling cannot help, so it is no connection error.
var ErrWrongProtocol = errors.New("the server speaks another protocol than the URL says")

// greetingHint names the server behind a greeting its client cannot read:
// a POP3 greeting on imap:// (pop3 false), an IMAP one on pop3:// (pop3
// true). It returns nil for anything else.
func greetingHint(greeting string, pop3 bool) error {
	shown := greeting
	if len(shown) > 60 {
		shown = shown[:60] + "..."
	}
	switch {
	case !pop3 && (strings.HasPrefix(greeting, "+OK") || strings.HasPrefix(greeting, "-ERR")):
		return fmt.Errorf("%w: greeting %q is a POP3 server's; use pop3:// (or pop3s://)", ErrWrongProtocol, shown)
	case pop3 && (hasPrefixFold(greeting, "* OK") || hasPrefixFold(greeting, "* PREAUTH") || hasPrefixFold(greeting, "* BYE")):
		return fmt.Errorf("%w: greeting %q is an IMAP server's; use imap:// (or imaps://)", ErrWrongProtocol, shown)
	}
	return nil
}

// tlsHint explains a TLS handshake that the server answered in plaintext,
// as one does when imaps:// or pop3s:// names a plaintext port.
func tlsHint(err error) error {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) {
		return err
	}
	head := string(rh.RecordHeader[:])
	switch {
	case strings.HasPrefix(head, "* "):
		return fmt.Errorf("%w: the server answered TLS in plaintext IMAP; for this port use imap:// (STARTTLS) instead of imaps://: %w", ErrWrongProtocol, err)
	case strings.HasPrefix(head, "+OK"), strings.HasPrefix(head, "-ERR"):
		return fmt.Errorf("%w: the server answered TLS in plaintext POP3; for this port use pop3:// (STLS) instead of pop3s://: %w", ErrWrongProtocol, err)
	}
	return fmt.Errorf("%w: the server did not answer TLS (a plaintext port?): %w", ErrWrongProtocol, err)
}
