package pop3

import (
	"slices"
	"testing"
)

func TestCapa(t *testing.T) {
	tests := []struct {
		name   string
		answer []string
		want   []string
	}{
		{"capabilities", []string{"+OK Capability list follows", "TOP", "UIDL", "SASL PLAIN LOGIN", "STLS", "."}, []string{"TOP", "UIDL", "SASL PLAIN LOGIN", "STLS"}},
		{"no CAPA command", []string{"-ERR unknown command"}, []string{}},
		{"empty list", []string{"+OK", "."}, []string{}},
		{"blank lines dropped", []string{"+OK", "USER", "", "UIDL ", "."}, []string{"USER", "UIDL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("CAPA")
				s.reply(tt.answer...)
				s.expect("NOOP")
				s.reply("+OK")
			})
			ctx := testContext(t)
			caps, err := c.Capa(ctx)
			if err != nil {
				t.Fatalf("Capa: %v", err)
			}
			if caps == nil || !slices.Equal(caps, tt.want) {
				t.Errorf("Capa = %#v, want %#v", caps, tt.want)
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("Noop after Capa: %v", err)
			}
		})
	}
}
