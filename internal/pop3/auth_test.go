package pop3

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// rfc1939Greeting is the greeting of the APOP example in RFC 1939 section 7.
const rfc1939Greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"

func TestAPOPDigestRFC1939Example(t *testing.T) {
	const want = "c4c9334bac560ecc979e58001b3e22fb"
	if got := apopDigest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"); got != want {
		t.Errorf("apopDigest = %s, want %s", got, want)
	}
	c, err := startFake(t, rfc1939Greeting, func(s *fakeServer) {
		s.expect("APOP mrose " + want)
		s.reply("+OK mrose's maildrop has 2 messages (320 octets)")
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if err := c.APOP(testContext(t), "mrose", "tanstaaf"); err != nil {
		t.Errorf("APOP: %v", err)
	}
}

func TestAPOPTimestamp(t *testing.T) {
	tests := []struct {
		greeting, want string
	}{
		{"POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"},
		{"Dovecot ready. <1a2b.3.68f0c1d2.Kx9pQw==@host>", "<1a2b.3.68f0c1d2.Kx9pQw==@host>"},
		{"Dovecot ready.", ""},
		{"ready <no-at-sign>", ""},
		{"ready <a@b", ""},
		{"ready <not a@timestamp>", ""},
		{"<old@x> then <new@y>", "<new@y>"},
	}
	for _, tt := range tests {
		if got := apopTimestamp(tt.greeting); got != tt.want {
			t.Errorf("apopTimestamp(%q) = %q, want %q", tt.greeting, got, tt.want)
		}
	}
}

func TestAPOPWithoutTimestamp(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		// Nothing may have been sent for APOP: NOOP comes first.
		s.expect("NOOP")
		s.reply("+OK")
	})
	ctx := testContext(t)
	if err := c.APOP(ctx, "alice", "secret"); !errors.Is(err, ErrNoAPOP) {
		t.Errorf("APOP without timestamp = %v, want ErrNoAPOP", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("Noop: %v", err)
	}
}

func TestAuthPlain(t *testing.T) {
	long := strings.Repeat("p", 200)
	tests := []struct {
		name                   string
		caps                   []string // CAPA answer; nil: server without CAPA; empty: CAPA not asked
		authzid, authcid, pass string
		script                 []string // after CAPA: "C: line" the client sends, "S: line" the server answers
		wantErr                bool
		wantCode               string
	}{
		{
			// RFC 4616 section 4's example credentials.
			name: "initial response after CAPA lists SASL", caps: []string{"USER", "SASL PLAIN LOGIN"},
			authcid: "tim", pass: "tanstaaftanstaaf",
			script: []string{"C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "S: +OK Logged in."},
		},
		{
			name: "authorization identity", caps: []string{"SASL PLAIN"},
			authzid: "admin", authcid: "alice", pass: "s3cr3t pw",
			script: []string{"C: AUTH PLAIN YWRtaW4AYWxpY2UAczNjcjN0IHB3", "S: +OK"},
		},
		{
			name: "continuation without CAPA", caps: []string{},
			authcid: "tim", pass: "tanstaaftanstaaf",
			script: []string{"C: AUTH PLAIN", "S: + ", "C: AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "S: +OK"},
		},
		{
			name: "continuation when CAPA is refused", caps: nil,
			authcid: "tim", pass: "tanstaaftanstaaf",
			script: []string{"C: AUTH PLAIN", "S: +", "C: AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "S: +OK"},
		},
		{
			name: "continuation when CAPA lacks SASL", caps: []string{"USER", "UIDL"},
			authcid: "tim", pass: "tanstaaftanstaaf",
			script: []string{"C: AUTH PLAIN", "S: + ", "C: AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "S: +OK"},
		},
		{
			name: "server asks again after the initial response", caps: []string{"SASL PLAIN"},
			authcid: "tim", pass: "tanstaaftanstaaf",
			script:  []string{"C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "S: + ", "C: *", "S: -ERR cancelled"},
			wantErr: true,
		},
		{
			name: "response over 255 octets goes after the challenge", caps: []string{"SASL PLAIN"},
			authcid: "tim", pass: long,
			script: []string{"C: AUTH PLAIN", "S: + ", "C: " + plainResponse("", "tim", long), "S: +OK"},
		},
		{
			// 11 + 240 + CRLF = 253 octets.
			name: "command line of 253 octets keeps the initial response", caps: []string{"SASL PLAIN"},
			authcid: "tim", pass: long[:175],
			script: []string{"C: AUTH PLAIN " + plainResponse("", "tim", long[:175]), "S: +OK"},
		},
		{
			// 11 + 244 + CRLF = 257 octets.
			name: "command line of 257 octets waits for the challenge", caps: []string{"SASL PLAIN"},
			authcid: "tim", pass: long[:178],
			script: []string{"C: AUTH PLAIN", "S: + ", "C: " + plainResponse("", "tim", long[:178]), "S: +OK"},
		},
		{
			name: "refused", caps: []string{"SASL PLAIN"},
			authcid: "tim", pass: "wrong",
			script:  []string{"C: AUTH PLAIN " + plainResponse("", "tim", "wrong"), "S: -ERR [AUTH] Authentication failed."},
			wantErr: true, wantCode: "AUTH",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				switch {
				case tt.caps == nil:
					s.expect("CAPA")
					s.reply("-ERR unknown command")
				case len(tt.caps) > 0:
					s.expect("CAPA")
					s.reply(append(append([]string{"+OK"}, tt.caps...), ".")...)
				}
				for _, step := range tt.script {
					if line, ok := strings.CutPrefix(step, "C: "); ok {
						s.expect(line)
					} else {
						s.reply(strings.TrimPrefix(step, "S: "))
					}
				}
				s.expect("NOOP")
				s.reply("+OK")
			})
			ctx := testContext(t)
			if tt.caps == nil || len(tt.caps) > 0 {
				if _, err := c.Capa(ctx); err != nil {
					t.Fatalf("Capa: %v", err)
				}
			}
			err := c.AuthPlain(ctx, tt.authzid, tt.authcid, tt.pass)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AuthPlain = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				if IsConnectionError(err) {
					t.Errorf("AuthPlain error %v is a connection error", err)
				}
				if strings.Contains(err.Error(), tt.pass) || strings.Contains(err.Error(), plainResponse(tt.authzid, tt.authcid, tt.pass)) {
					t.Errorf("AuthPlain error %q shows the credentials", err)
				}
				var perr *Error
				if errors.As(err, &perr) && perr.Code != tt.wantCode {
					t.Errorf("Code = %q, want %q", perr.Code, tt.wantCode)
				}
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("Noop after AuthPlain: %v", err)
			}
		})
	}
}

// plainResponse is the base64 SASL PLAIN message (RFC 4616), for scripts.
func plainResponse(authzid, authcid, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(authzid + "\x00" + authcid + "\x00" + password))
}

func TestSecretsRedacted(t *testing.T) {
	const pw = "hunter2-very-secret"
	resp := plainResponse("", "alice", pw)
	digest := apopDigest("<1.2@host>", pw)
	tests := []struct {
		name        string
		login       func(c *Client) error
		command     string
		answer      string
		wantCommand string
	}{
		{
			name:        "PASS",
			login:       func(c *Client) error { return c.Pass(testContext(t), pw) },
			command:     "PASS " + pw,
			answer:      "-ERR [AUTH] bad password " + pw, // a server that echoes
			wantCommand: "PASS ***",
		},
		{
			name:        "APOP",
			login:       func(c *Client) error { return c.APOP(testContext(t), "alice", pw) },
			command:     "APOP alice " + digest,
			answer:      "-ERR digest " + digest + " does not match",
			wantCommand: "APOP alice ***",
		},
		{
			name:        "AUTH PLAIN",
			login:       func(c *Client) error { return c.AuthPlain(testContext(t), "", "alice", pw) },
			command:     "AUTH PLAIN",
			answer:      "-ERR cannot decode " + resp,
			wantCommand: "AUTH PLAIN ***",
		},
		{
			name:        "garbled answer to PASS",
			login:       func(c *Client) error { return c.Pass(testContext(t), pw) },
			command:     "PASS " + pw,
			answer:      "?? PASS " + pw,
			wantCommand: "PASS ***",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := startFake(t, "+OK ready <1.2@host>", func(s *fakeServer) {
				s.expect(tt.command)
				if tt.command == "AUTH PLAIN" {
					s.reply("+ ")
					s.expect(resp)
				}
				s.reply(tt.answer)
			})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			err = tt.login(c)
			if err == nil {
				t.Fatal("login succeeded against a refusing server")
			}
			for _, secret := range []string{pw, resp, digest} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains the secret %q", err, secret)
				}
			}
			if !strings.Contains(err.Error(), tt.wantCommand) {
				t.Errorf("error %q does not name the command as %q", err, tt.wantCommand)
			}
			var perr *Error
			if errors.As(err, &perr) && (perr.Command != tt.wantCommand || strings.Contains(perr.Text, pw)) {
				t.Errorf("Error{Command: %q, Text: %q} leaks or misnames", perr.Command, perr.Text)
			}
		})
	}
}

func TestRefusedArguments(t *testing.T) {
	c, err := startFake(t, "+OK ready <1.2@host>", func(s *fakeServer) {
		s.expect("NOOP")
		s.reply("+OK")
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	ctx := testContext(t)
	for name, err := range map[string]error{
		"USER with CRLF":      c.User(ctx, "alice\r\nDELE 1"),
		"PASS with LF":        c.Pass(ctx, "pw\nDELE 1"),
		"APOP user with CR":   c.APOP(ctx, "a\rb", "pw"),
		"AUTH PLAIN with NUL": c.AuthPlain(ctx, "", "alice", "p\x00w"),
		"AUTH PLAIN no user":  c.AuthPlain(ctx, "", "", "pw"),
		"DELE 0":              c.Dele(ctx, 0),
	} {
		if err == nil || IsConnectionError(err) {
			t.Errorf("%s: error %v, want a refusal before sending", name, err)
		}
	}
	// The fake server saw none of them.
	if err := c.Noop(ctx); err != nil {
		t.Errorf("Noop: %v", err)
	}
}
