package pop3

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
)

// endlessSend writes s to the client until it hangs up.
func (s *fakeServer) endlessSend(line string) {
	chunk := strings.Repeat(line, max(1, 64<<10/len(line)))
	for {
		s.send(chunk)
	}
}

// peakRSS returns the process's peak resident set in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	rss, err := testserver.PeakRSS()
	if err != nil {
		t.Skip("peak RSS unknown:", err)
	}
	return rss
}

// TestLimits: a server that sends without end fails the command with
// ErrLimit, which names the bound, is no connection error to retry, and
// leaves the client unusable; memory stays under 200 MB.
func TestLimits(t *testing.T) {
	tests := []struct {
		name   string
		script func(s *fakeServer)
		run    func(ctx context.Context, c *Client) error
		want   string
	}{
		{
			name: "endless status line",
			script: func(s *fakeServer) {
				s.expect("NOOP")
				s.send("+OK ")
				s.endlessSend("x")
			},
			run:  func(ctx context.Context, c *Client) error { return c.Noop(ctx) },
			want: "line longer than",
		},
		{
			name: "endless UIDL listing",
			script: func(s *fakeServer) {
				s.expect("UIDL")
				s.send("+OK\r\n")
				s.endlessSend("1 0123456789abcdef\r\n")
			},
			run: func(ctx context.Context, c *Client) error {
				_, err := c.UIDL(ctx)
				return err
			},
			want: "listing longer than",
		},
		{
			name: "endless LIST listing of long lines",
			script: func(s *fakeServer) {
				s.expect("LIST")
				s.send("+OK\r\n")
				s.endlessSend("1 100 " + strings.Repeat("x", 8000) + "\r\n")
			},
			run: func(ctx context.Context, c *Client) error {
				_, err := c.List(ctx)
				return err
			},
			want: "listing longer than",
		},
		{
			name: "endless line in a listing",
			script: func(s *fakeServer) {
				s.expect("UIDL")
				s.send("+OK\r\n1 ")
				s.endlessSend("x")
			},
			run: func(ctx context.Context, c *Client) error {
				_, err := c.UIDL(ctx)
				return err
			},
			want: "line longer than",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, tt.script)
			ctx := testContext(t)
			err := tt.run(ctx, c)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) || IsConnectionError(err) {
				t.Fatalf("error = %v, want ErrLimit naming %q and no connection error", err, tt.want)
			}
			if err2 := c.Noop(ctx); err2 == nil {
				t.Errorf("the client still works after a limit")
			}
			if rss := peakRSS(t); rss > 200<<20 {
				t.Errorf("peak RSS %d MB, want under 200 MB", rss>>20)
			}
		})
	}
}

// TestIMAPGreeting: an IMAP server's greeting on a POP3 connection says so
// at once, and is no connection error to redial.
func TestIMAPGreeting(t *testing.T) {
	_, err := startFake(t, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.", func(s *fakeServer) {})
	if !errors.Is(err, ErrIMAPGreeting) || IsConnectionError(err) || !strings.Contains(err.Error(), "imap://") {
		t.Errorf("error = %v, want ErrIMAPGreeting naming imap://", err)
	}
}

// TestSilence: a server silent beyond WithTimeout fails the command with a
// *SilenceError that names the silence; the context's own deadline is no
// silence of the server's.
func TestSilence(t *testing.T) {
	tests := []struct {
		name        string
		opts        []Option
		ctxTimeout  time.Duration
		wantSilence bool
	}{
		{"timeout", []Option{WithTimeout(50 * time.Millisecond)}, 0, true},
		{"context deadline", []Option{WithTimeout(time.Minute)}, 50 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("NOOP")
				s.r.ReadString('\n')
			}, tt.opts...)
			ctx := testContext(t)
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			err := c.Noop(ctx)
			var se *SilenceError
			if got := errors.As(err, &se); got != tt.wantSilence || !IsConnectionError(err) {
				t.Errorf("error = %v: a silence %v, want %v, and a connection error", err, got, tt.wantSilence)
			}
			if tt.wantSilence && !strings.Contains(err.Error(), "server silent for 50ms") {
				t.Errorf("error %q does not name the silence", err)
			}
		})
	}
}
