package pop3

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func TestErrAnswer(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		wantText string
		wantCode string
	}{
		{"plain", "-ERR no such message", "no such message", ""},
		{"response code", "-ERR [IN-USE] Mailbox is locked", "[IN-USE] Mailbox is locked", "IN-USE"},
		{"hierarchical code", "-ERR [SYS/TEMP] try later", "[SYS/TEMP] try later", "SYS/TEMP"},
		{"no text", "-ERR", "", ""},
		{"bracket that is no code", "-ERR [not a code] x", "[not a code] x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect("RETR 9")
				s.reply(tt.answer)
				s.expect("NOOP")
				s.reply("+OK")
			})
			ctx := testContext(t)
			r, err := c.Retr(ctx, 9)
			if r != nil {
				t.Errorf("Retr returned a reader with error %v", err)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Retr error = %v (%T), want *Error", err, err)
			}
			if perr.Command != "RETR 9" || perr.Text != tt.wantText || perr.Code != tt.wantCode {
				t.Errorf("Error = %+v, want Command RETR 9, Text %q, Code %q", *perr, tt.wantText, tt.wantCode)
			}
			if IsConnectionError(err) {
				t.Errorf("-ERR counted as a connection error")
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("Noop after -ERR: %v", err)
			}
		})
	}
}

func TestGreetingRefused(t *testing.T) {
	_, err := startFake(t, "-ERR [SYS/TEMP] too many connections", func(s *fakeServer) {})
	var perr *Error
	if !errors.As(err, &perr) || perr.Command != "greeting from pipe" || perr.Code != "SYS/TEMP" {
		t.Errorf("NewClient = %v, want *Error for the greeting with code SYS/TEMP", err)
	}
}

func TestConnectionErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(s *fakeServer)
		run    func(ctx context.Context, c *Client) error
		is     error // also matched, if set
		opts   []Option
	}{
		{
			name:   "answer neither +OK nor -ERR",
			script: func(s *fakeServer) { s.expect("NOOP"); s.reply("HELLO") },
			run:    func(ctx context.Context, c *Client) error { return c.Noop(ctx) },
			is:     ErrProtocol,
		},
		{
			name:   "connection closed before the answer",
			script: func(s *fakeServer) { s.expect("STAT") },
			run: func(ctx context.Context, c *Client) error {
				_, _, err := c.Stat(ctx)
				return err
			},
			is: io.EOF,
		},
		{
			name:   "listing cut short",
			script: func(s *fakeServer) { s.expect("LIST"); s.send("+OK\r\n1 100\r\n") },
			run: func(ctx context.Context, c *Client) error {
				_, err := c.List(ctx)
				return err
			},
			is: io.ErrUnexpectedEOF,
		},
		{
			name:   "continuation where none belongs",
			script: func(s *fakeServer) { s.expect("RSET"); s.reply("+ go on") },
			run:    func(ctx context.Context, c *Client) error { return c.Rset(ctx) },
			is:     ErrProtocol,
		},
		{
			name: "silent server hits the timeout",
			script: func(s *fakeServer) {
				s.expect("NOOP")
				s.r.ReadString('\n') // wait for the client to give up
			},
			run:  func(ctx context.Context, c *Client) error { return c.Noop(ctx) },
			is:   os.ErrDeadlineExceeded,
			opts: []Option{WithTimeout(50 * time.Millisecond)},
		},
		{
			name: "context deadline",
			script: func(s *fakeServer) {
				s.expect("NOOP")
				s.r.ReadString('\n')
			},
			run: func(ctx context.Context, c *Client) error {
				ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				return c.Noop(ctx)
			},
			is: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, tt.script, tt.opts...)
			ctx := testContext(t)
			err := tt.run(ctx, c)
			if !IsConnectionError(err) {
				t.Fatalf("error = %v, want a connection error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want it to match %v", err, tt.is)
			}
			var perr *Error
			if errors.As(err, &perr) {
				t.Errorf("connection error %v also matches *Error", err)
			}
			// The client remembers: nothing more is sent (the fake
			// server would fail on an unexpected command).
			if err2 := c.Noop(ctx); !IsConnectionError(err2) {
				t.Errorf("next command = %v, want the connection error again", err2)
			}
		})
	}
}

func TestIsConnectionError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&Error{Command: "DELE 1", Text: "no such message"}, false},
		{ErrNoAPOP, false},
		{ErrClosed, true},
		{io.EOF, true},
		{io.ErrUnexpectedEOF, true},
		{net.ErrClosed, true},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{&connError{op: "NOOP", err: ErrProtocol}, true},
		{context.Canceled, false}, // cancelled before anything was sent
	}
	for _, tt := range tests {
		if got := IsConnectionError(tt.err); got != tt.want {
			t.Errorf("IsConnectionError(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestCancelledBeforeSending(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("NOOP")
		s.reply("+OK")
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Noop(ctx); !errors.Is(err, context.Canceled) || IsConnectionError(err) {
		t.Errorf("Noop with a cancelled context = %v, want context.Canceled and a usable client", err)
	}
	if err := c.Noop(testContext(t)); err != nil {
		t.Errorf("Noop: %v", err)
	}
}
