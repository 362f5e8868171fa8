package testserver

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDovecotPOP3(t *testing.T) {
	d := StartDovecot(t, Options{Users: []User{alice}})
	bodies := []string{crlfMessage, lfMessage, crlfMessage}
	wantSize := 0
	for _, b := range bodies {
		d.Append(t, alice.Name, "INBOX", Message{Body: []byte(b)})
		wantSize += len(strings.ReplaceAll(strings.ReplaceAll(b, "\r\n", "\n"), "\n", "\r\n"))
	}
	wantStat := fmt.Sprintf("+OK %d %d", len(bodies), wantSize)
	// pop3_uidl_format = %08Xu%08Xv: UID then UIDVALIDITY; Dovecot's %X
	// writes lowercase hex despite the capital.
	uidl := regexp.MustCompile(`^\d+ [0-9a-f]{16}$`)

	tests := []struct {
		name    string
		addr    string
		tls     bool // implicit TLS
		stls    bool // upgrade with STLS after the greeting
		wantCap []string
		noCap   []string
	}{
		{"plain", d.POP3Addr, false, false, []string{"STLS", "UIDL", "USER", "TOP"}, nil},
		{"STLS", d.POP3Addr, false, true, []string{"UIDL", "USER"}, []string{"STLS"}},
		{"POP3S", d.POP3SAddr, true, false, []string{"UIDL", "USER"}, []string{"STLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := d.TLSConfig()
			if !tt.tls {
				cfg = nil
			}
			p, greeting := dialPOP3(t, tt.addr, cfg)
			if !strings.Contains(greeting, "Dovecot") {
				t.Errorf("greeting %q does not name Dovecot", greeting)
			}
			if tt.stls {
				p.startTLS(d.TLSConfig())
			}
			caps := p.multi("CAPA")
			for _, c := range tt.wantCap {
				if !slices.Contains(caps, c) {
					t.Errorf("CAPA %q lacks %s", caps, c)
				}
			}
			for _, c := range tt.noCap {
				if slices.Contains(caps, c) {
					t.Errorf("CAPA %q offers %s, which makes no sense here", caps, c)
				}
			}
			p.cmd("USER " + alice.Name)
			p.cmd("PASS " + alice.Password)
			if stat := p.cmd("STAT"); stat != wantStat {
				t.Errorf("STAT = %q, want %q", stat, wantStat)
			}
			uids := p.multi("UIDL")
			if len(uids) != len(bodies) {
				t.Errorf("UIDL lists %d messages, want %d", len(uids), len(bodies))
			}
			for _, u := range uids {
				if !uidl.MatchString(u) {
					t.Errorf("UIDL line %q is not <n> <%%08Xu%%08Xv>", u)
				}
			}
			p.cmd("QUIT")
		})
	}

	t.Run("APOP", func(t *testing.T) {
		p, greeting := dialPOP3(t, d.POP3Addr, nil)
		stamp := regexp.MustCompile(`<[^>]+>`).FindString(greeting)
		if stamp == "" {
			t.Fatalf("greeting %q has no APOP timestamp", greeting)
		}
		digest := md5.Sum([]byte(stamp + alice.Password))
		p.cmd("APOP " + alice.Name + " " + hex.EncodeToString(digest[:]))
		if stat := p.cmd("STAT"); stat != wantStat {
			t.Errorf("STAT = %q, want %q", stat, wantStat)
		}
	})
}
