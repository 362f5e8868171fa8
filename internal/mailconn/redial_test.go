package mailconn

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// fakeConn counts its dials and closes.
type fakeConn struct{ closed *int }

func (c fakeConn) Close() error { *c.closed++; return nil }

func TestRedial(t *testing.T) {
	no := &imap.Error{Type: imap.StatusResponseTypeNo, Text: "mailbox does not exist"}
	tests := []struct {
		name      string
		errs      []error // what successive calls return; nil after the end
		retries   int
		wantCalls int
		wantErr   error // matched with errors.Is; nil for success
	}{
		{"success first", nil, 2, 1, nil},
		{"success after drops", []error{io.ErrUnexpectedEOF, io.EOF}, 2, 3, nil},
		{"NO is not retried", []error{no}, 2, 1, no},
		{"gives up", []error{io.EOF, io.EOF, io.EOF, io.EOF}, 2, 3, io.EOF},
		{"NO after a drop", []error{io.EOF, no}, 4, 2, no},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redial[fakeConn]
			r.backoff = Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}
			dials, closed := 0, 0
			l := Link[fakeConn]{Dial: func(context.Context) (fakeConn, error) {
				dials++
				return fakeConn{&closed}, nil
			}}
			calls := 0
			err := r.Do(context.Background(), l, tt.retries, func(fakeConn) error {
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
				t.Errorf("Do() = %v, want %v", err, tt.wantErr)
			}
			// Each dropped connection is closed and replaced.
			open := dials - closed
			if _, live := r.Conn(); live && open != 1 || !live && open != 0 {
				t.Errorf("%d dials, %d closes, live %v", dials, closed, live)
			}
		})
	}
}

func TestRedialStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("interrupted")
	var r Redial[fakeConn]
	r.backoff = Backoff{Min: time.Hour}
	closed, calls := 0, 0
	l := Link[fakeConn]{Dial: func(context.Context) (fakeConn, error) { return fakeConn{&closed}, nil }}
	err := r.Do(ctx, l, 3, func(fakeConn) error {
		calls++
		cancel(why)
		return io.EOF
	})
	if !errors.Is(err, why) || calls != 1 || closed != 1 {
		t.Errorf("Do() = %v after %d calls and %d closes, want the cause after 1 and 1", err, calls, closed)
	}
}
