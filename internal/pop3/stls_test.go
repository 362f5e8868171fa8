package pop3

import (
	"crypto/tls"
	"errors"
	"testing"
)

func TestStartTLSRefusals(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		wantConn bool // the client must be unusable afterwards
		is       error
	}{
		{"server without STLS", "-ERR TLS not available\r\n", false, nil},
		// Anything after +OK arrived unencrypted; taking it as an answer
		// over TLS would let a man in the middle inject answers.
		{"bytes injected after +OK", "+OK Begin TLS\r\n+OK 0 0\r\n", true, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("STLS")
				s.send(tt.answer)
				if !tt.wantConn {
					s.expect("NOOP")
					s.reply("+OK")
				}
			})
			ctx := testContext(t)
			_, err := c.StartTLS(ctx, &tls.Config{ServerName: "example.org"})
			if err == nil {
				t.Fatal("StartTLS succeeded")
			}
			if IsConnectionError(err) != tt.wantConn {
				t.Errorf("StartTLS = %v; connection error: %v, want %v", err, IsConnectionError(err), tt.wantConn)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("StartTLS = %v, want it to match %v", err, tt.is)
			}
			if !tt.wantConn {
				if err := c.Noop(ctx); err != nil {
					t.Errorf("Noop after refused STLS: %v", err)
				}
			}
		})
	}
}
