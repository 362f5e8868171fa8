package mailconn

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestRetry(t *testing.T) {
	no := &imap.Error{Type: imap.StatusResponseTypeNo, Text: "mailbox does not exist"}
	tests := []struct {
		name      string
		errs      []error // what successive calls return; nil after the end
		max       int
		wantCalls int
		wantErr   error // matched with errors.Is; nil for success
	}{
		{"success first", nil, 3, 1, nil},
		{"success after drops", []error{io.ErrUnexpectedEOF, io.EOF}, 3, 3, nil},
		{"NO is not retried", []error{no}, 3, 1, no},
		{"gives up", []error{io.EOF, io.EOF, io.EOF, io.EOF}, 3, 3, io.EOF},
		{"unlimited", []error{io.EOF, io.EOF, io.EOF, io.EOF}, 0, 5, nil},
		{"NO after a drop", []error{io.EOF, no}, 5, 2, no},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}
			calls := 0
			err := Retry(context.Background(), b, tt.max, func() error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("fn called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Retry() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, &Backoff{Min: time.Hour}, 0, func() error {
		calls++
		cancel()
		return io.EOF
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, io.EOF) || calls != 1 {
		t.Errorf("Retry() = %v after %d calls, want context.Canceled joined with EOF after 1", err, calls)
	}
}
