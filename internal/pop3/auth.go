package pop3

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// User sends USER, the first half of a plaintext login; Pass is the second.
func (c *Client) User(ctx context.Context, name string) error {
	if err := checkArg("user name", name); err != nil {
		return err
	}
	_, err := c.simple(ctx, "USER "+name)
	return err
}

// Pass sends PASS after User. The password never appears in errors.
func (c *Client) Pass(ctx context.Context, password string) error {
	if err := checkArg("password", password); err != nil {
		return err
	}
	return c.login(ctx, "PASS "+password, "PASS ***", password)
}

// APOP logs in without sending the password (RFC 1939 section 7): the
// digest is MD5 over the greeting's timestamp and the password. It returns
// ErrNoAPOP, sending nothing, if the greeting had no timestamp. MD5 makes it
// no substitute for TLS; it only keeps the password itself off the wire.
func (c *Client) APOP(ctx context.Context, user, password string) error {
	if c.timestamp == "" {
		return ErrNoAPOP
	}
	if err := checkArg("user name", user); err != nil {
		return err
	}
	digest := apopDigest(c.timestamp, password)
	return c.login(ctx, "APOP "+user+" "+digest, "APOP "+user+" ***", password, digest)
}

// login sends a command carrying secrets and reads its status line.
func (c *Client) login(ctx context.Context, line, shown string, secrets ...string) error {
	if err := c.begin(ctx, shown); err != nil {
		return err
	}
	defer c.end()
	if err := c.send(line, shown); err != nil {
		return err
	}
	_, err := c.readStatus(shown, secrets)
	return err
}

// apopDigest is the lowercase hex MD5 of timestamp followed by password.
func apopDigest(timestamp, password string) string {
	sum := md5.Sum([]byte(timestamp + password))
	return hex.EncodeToString(sum[:])
}

// apopTimestamp returns the "<...>" of a greeting (brackets included, as
// the digest covers them), or "" if there is none.
func apopTimestamp(greeting string) string {
	start := strings.LastIndexByte(greeting, '<')
	if start < 0 {
		return ""
	}
	end := strings.IndexByte(greeting[start:], '>')
	if end < 0 {
		return ""
	}
	ts := greeting[start : start+end+1]
	// RFC 1939's timestamp is a msg-id: <process-ID.clock@hostname>.
	if !strings.Contains(ts, "@") || strings.ContainsAny(ts, " \t") {
		return ""
	}
	return ts
}

// AuthPlain logs in with SASL PLAIN (RFC 4616) through AUTH (RFC 5034).
// authzid is the user to act as and may be empty; authcid and password are
// whose credentials are checked, so an administrator (a Dovecot master
// user) can open a user's mailbox.
func (c *Client) AuthPlain(ctx context.Context, authzid, authcid, password string) error {
	if authcid == "" {
		return errors.New("pop3: AUTH PLAIN needs a user name")
	}
	if strings.ContainsRune(authzid+authcid+password, 0) {
		return errors.New("pop3: AUTH PLAIN: user names and password must not contain NUL")
	}
	return c.Auth(ctx, "PLAIN", []byte(authzid+"\x00"+authcid+"\x00"+password), password)
}

// Auth logs in with a SASL mechanism of one initial response (PLAIN,
// XOAUTH2, OAUTHBEARER) through AUTH (RFC 5034); secrets are kept out of
// errors and logs. The response goes with the command when the last CAPA
// listed SASL, as RFC 5034 servers must accept that, and after the server's
// "+ " otherwise, which older RFC 1734 servers need. A second challenge
// (XOAUTH2's error details) gets an empty response, after which the server
// answers -ERR.
func (c *Client) Auth(ctx context.Context, mech string, ir []byte, secrets ...string) error {
	resp := base64.StdEncoding.EncodeToString(ir)
	secrets = append(secrets, resp, string(ir))
	cmd := "AUTH " + mech
	if err := c.begin(ctx, cmd); err != nil {
		return err
	}
	defer c.end()
	shown := cmd
	line := cmd
	sent := false
	// RFC 5034 section 4: an initial response that would make the command
	// line longer than 255 octets, CRLF included, goes after the empty
	// challenge instead.
	if c.hasCap("SASL") && len(cmd)+1+len(resp)+2 <= 255 {
		line, shown, sent = cmd+" "+resp, cmd+" ***", true
	}
	if err := c.send(line, shown); err != nil {
		return err
	}
	for answered := false; ; {
		st, err := c.readAnswer(shown, secrets)
		if err != nil {
			return err
		}
		switch {
		case st.kind == '+':
			return nil
		case st.kind == '-':
			return newError(shown, st.text, secrets)
		case !sent:
			if err := c.send(resp, shown); err != nil {
				return err
			}
			shown, sent = cmd+" ***", true
		case mech != "PLAIN" && !answered:
			// The server explains a refusal in a challenge; the empty
			// response lets it say -ERR.
			if err := c.send("", shown); err != nil {
				return err
			}
			answered = true
		default:
			// Nothing more to say; "*" cancels the exchange and the
			// server answers -ERR (RFC 5034 section 4).
			if err := c.send("*", shown); err != nil {
				return err
			}
			_, err := c.readStatus(shown, secrets)
			var refused *Error
			switch {
			case err == nil:
				return c.fail(shown, fmt.Errorf("%w: server accepted a cancelled AUTH", ErrProtocol))
			case !errors.As(err, &refused):
				return err
			}
			return fmt.Errorf("pop3: %s: server sent a second challenge %q; cancelled", shown, redact(st.text, secrets))
		}
	}
}
