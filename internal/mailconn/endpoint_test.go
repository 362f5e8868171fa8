package mailconn

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in       string
		want     Endpoint
		account  string
		str      string
		address  string
		implicit bool
	}{
		{
			in:      "imap://alice@mail.example.org",
			want:    Endpoint{"imap", "alice", "mail.example.org", 143},
			account: "alice@mail.example.org", str: "imap://alice@mail.example.org", address: "mail.example.org:143",
		},
		{
			in:      "imaps://alice@Mail.Example.ORG",
			want:    Endpoint{"imaps", "alice", "mail.example.org", 993},
			account: "alice@mail.example.org", str: "imaps://alice@mail.example.org", address: "mail.example.org:993", implicit: true,
		},
		{
			in:      "IMAPS://Alice@mail.example.org:10993/",
			want:    Endpoint{"imaps", "Alice", "mail.example.org", 10993},
			account: "Alice@mail.example.org", str: "imaps://Alice@mail.example.org:10993", address: "mail.example.org:10993", implicit: true,
		},
		{
			in:      "pop3://bob@pop.example.org",
			want:    Endpoint{"pop3", "bob", "pop.example.org", 110},
			account: "bob@pop.example.org", str: "pop3://bob@pop.example.org", address: "pop.example.org:110",
		},
		{
			in:      "pop3s://bob@pop.example.org:1995",
			want:    Endpoint{"pop3s", "bob", "pop.example.org", 1995},
			account: "bob@pop.example.org", str: "pop3s://bob@pop.example.org:1995", address: "pop.example.org:1995", implicit: true,
		},
		{
			in:      "imap://alice@example.org@mail.example.org",
			want:    Endpoint{"imap", "alice@example.org", "mail.example.org", 143},
			account: "alice@example.org@mail.example.org", str: "imap://alice%40example.org@mail.example.org", address: "mail.example.org:143",
		},
		{
			in:      "imap://alice%40example.org@mail.example.org:144",
			want:    Endpoint{"imap", "alice@example.org", "mail.example.org", 144},
			account: "alice@example.org@mail.example.org", str: "imap://alice%40example.org@mail.example.org:144", address: "mail.example.org:144",
		},
		{
			in:      "imap://a%2Bb%20c@host",
			want:    Endpoint{"imap", "a+b c", "host", 143},
			account: "a+b c@host", str: "imap://a+b%20c@host", address: "host:143",
		},
		{
			in:      "imaps://alice@[::1]",
			want:    Endpoint{"imaps", "alice", "::1", 993},
			account: "alice@[::1]", str: "imaps://alice@[::1]", address: "[::1]:993", implicit: true,
		},
		{
			in:      "imap://alice@[2001:DB8::1]:1143",
			want:    Endpoint{"imap", "alice", "2001:db8::1", 1143},
			account: "alice@[2001:db8::1]", str: "imap://alice@[2001:db8::1]:1143", address: "[2001:db8::1]:1143",
		},
		{
			in:      "imap://alice@[fe80::1%25eth0]:143",
			want:    Endpoint{"imap", "alice", "fe80::1%eth0", 143},
			account: "alice@[fe80::1%25eth0]", str: "imap://alice@[fe80::1%25eth0]", address: "[fe80::1%eth0]:143",
		},
		{
			in:      "imap://alice@127.0.0.1:65535",
			want:    Endpoint{"imap", "alice", "127.0.0.1", 65535},
			account: "alice@127.0.0.1", str: "imap://alice@127.0.0.1:65535", address: "127.0.0.1:65535",
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ep, err := ParseEndpoint(tt.in)
			if err != nil {
				t.Fatalf("ParseEndpoint: %v", err)
			}
			if ep != tt.want {
				t.Errorf("got %#v, want %#v", ep, tt.want)
			}
			if got := ep.Account(); got != tt.account {
				t.Errorf("Account() = %q, want %q", got, tt.account)
			}
			if got := ep.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := ep.Address(); got != tt.address {
				t.Errorf("Address() = %q, want %q", got, tt.address)
			}
			if got := ep.Implicit(); got != tt.implicit {
				t.Errorf("Implicit() = %v, want %v", got, tt.implicit)
			}
			// String must parse back to the same endpoint.
			back, err := ParseEndpoint(ep.String())
			if err != nil || back != ep {
				t.Errorf("ParseEndpoint(String()) = %#v, %v; want %#v", back, err, ep)
			}
		})
	}
}

func TestParseEndpointErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring of the error
	}{
		{"mail.example.org", "want SCHEME://USER@HOST"},
		{"http://alice@example.org", `unknown scheme "http"`},
		{"imap://mail.example.org", "no user"},
		{"imap://@mail.example.org", "empty user"},
		{"imap://alice@", "empty host"},
		{"imap://alice@host:", "empty port"},
		{"imap://alice@host:0", "port \"0\""},
		{"imap://alice@host:65536", "port \"65536\""},
		{"imap://alice@host:imap", "port \"imap\""},
		{"imap://alice@::1", "brackets"},
		{"imap://alice@[::1", "missing ]"},
		{"imap://alice@[127.0.0.1]", "not an IPv6 address"},
		{"imap://alice@[::1]x", "unexpected"},
		{"imap://alice@host/INBOX", "unexpected path"},
		{"imap://alice@host?x=1", "unexpected path"},
		{"imap://al%zzice@host", "bad percent-encoding"},
		{"imap://alice@ho st", "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseEndpoint(tt.in)
			if err == nil {
				t.Fatalf("ParseEndpoint(%q) succeeded", tt.in)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrPasswordInURL) {
				t.Errorf("error %q claims a password", err)
			}
		})
	}
}

func TestParseEndpointRefusesPassword(t *testing.T) {
	const secret = "s3cr%3At!"
	tests := []struct {
		in       string
		wantUser string // how the error names the endpoint
	}{
		{"imap://alice:" + secret + "@mail.example.org", "imap://alice@mail.example.org"},
		{"imaps://alice%40example.org:" + secret + "@mail.example.org:993", "imaps://alice%40example.org@mail.example.org:993"},
		{"imap://alice@example.org:" + secret + "@mail.example.org", "imap://alice%40example.org@mail.example.org"},
		{"pop3://bob:" + secret + "@[::1]:110", "pop3://bob@[::1]:110"},
		{"imap://alice:" + secret + "@host:notaport", "imap://alice@host:notaport"},
		{"imap://alice:" + secret + "@", "imap://alice@"},
		{"imap://alice:" + secret + "@host/path?q", "imap://alice@host/path?q"},
		{"imap://:" + secret + "@host", "imap://@host"},
	}
	for _, tt := range tests {
		t.Run(tt.wantUser, func(t *testing.T) {
			_, err := ParseEndpoint(tt.in)
			if !errors.Is(err, ErrPasswordInURL) {
				t.Fatalf("error %v, want ErrPasswordInURL", err)
			}
			msg := err.Error()
			for _, leak := range []string{secret, "s3cr", "t!"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains the password (%q)", msg, leak)
				}
			}
			for _, want := range []string{tt.wantUser, "--password-file", "MAILFERRY_PASSWORD"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

// TestParseEndpointMalformedKeepsPasswordOut covers errors other than the
// password one for inputs that still carry something like a password.
func TestParseEndpointMalformedKeepsPasswordOut(t *testing.T) {
	for _, in := range []string{
		"imap:/alice:hunter2@host",
		"imap:alice:hunter2@host",
		"ftp://alice:hunter2@host",
		"alice:hunter2@host",
	} {
		_, err := ParseEndpoint(in)
		if err == nil {
			t.Errorf("ParseEndpoint(%q) succeeded", in)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseEndpoint(%q) error %q contains the password", in, err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost.", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"128.0.0.1", false},
		{"::2", false},
		{"localhost.example.org", false},
		{"mail.example.org", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
