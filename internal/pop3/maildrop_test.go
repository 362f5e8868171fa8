package pop3

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestStatListUIDL(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("STAT")
		s.reply("+OK 2 320")
		s.expect("LIST")
		s.reply("+OK 2 messages (320 octets)", "1 120", "2 200 extra info", ".")
		s.expect("UIDL")
		s.reply("+OK", "1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7", ".")
	})
	ctx := testContext(t)
	n, size, err := c.Stat(ctx)
	if err != nil || n != 2 || size != 320 {
		t.Errorf("Stat = %d, %d, %v; want 2, 320", n, size, err)
	}
	list, err := c.List(ctx)
	if want := []MessageSize{{1, 120}, {2, 200}}; err != nil || !slices.Equal(list, want) {
		t.Errorf("List = %v, %v; want %v", list, err, want)
	}
	uids, err := c.UIDL(ctx)
	if want := []MessageUID{{1, "whqtswO00WBw418f9t5JxYwZ"}, {2, "QhdPYR:00WBw1Ph7x7"}}; err != nil || !slices.Equal(uids, want) {
		t.Errorf("UIDL = %v, %v; want %v", uids, err, want)
	}
}

func TestUIDLRefused(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		s.expect("UIDL")
		s.reply("-ERR unknown command")
		s.expect("NOOP")
		s.reply("+OK")
	})
	ctx := testContext(t)
	_, err := c.UIDL(ctx)
	var perr *Error
	if !errors.Is(err, ErrNoUIDL) || !errors.As(err, &perr) || IsConnectionError(err) {
		t.Errorf("UIDL on a server without it = %v, want ErrNoUIDL and *Error", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("Noop after refused UIDL: %v", err)
	}
}

func TestBadListings(t *testing.T) {
	tests := []struct {
		name   string
		cmd    string
		answer []string
	}{
		{"STAT without size", "STAT", []string{"+OK 2"}},
		{"STAT negative", "STAT", []string{"+OK -1 0"}},
		{"LIST without size", "LIST", []string{"+OK", "1", "."}},
		{"LIST not numbers", "LIST", []string{"+OK", "one 100", "."}},
		{"UIDL without id", "UIDL", []string{"+OK", "1", "."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(t, func(s *fakeServer) {
				s.expect(tt.cmd)
				s.reply(tt.answer...)
				s.expect("NOOP")
				s.reply("+OK")
			})
			ctx := testContext(t)
			var err error
			switch tt.cmd {
			case "STAT":
				_, _, err = c.Stat(ctx)
			case "LIST":
				_, err = c.List(ctx)
			case "UIDL":
				_, err = c.UIDL(ctx)
			}
			if !errors.Is(err, ErrProtocol) {
				t.Errorf("error = %v, want ErrProtocol", err)
			}
			// The whole answer was read, so the connection is in step.
			if IsConnectionError(err) {
				t.Errorf("a complete but malformed answer broke the connection: %v", err)
			}
			if err := c.Noop(ctx); err != nil {
				t.Errorf("Noop: %v", err)
			}
		})
	}
}

func TestSessionCommands(t *testing.T) {
	c := fakeClient(t, func(s *fakeServer) {
		for _, cmd := range []string{"USER alice", "PASS pw", "NOOP", "DELE 3", "RSET"} {
			s.expect(cmd)
			s.reply("+OK")
		}
		s.expect("DELE 3")
		s.reply("-ERR message 3 already deleted")
		s.expect("QUIT")
		s.reply("+OK bye")
	})
	ctx := testContext(t)
	steps := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"User", c.User(ctx, "alice"), false},
		{"Pass", c.Pass(ctx, "pw"), false},
		{"Noop", c.Noop(ctx), false},
		{"Dele", c.Dele(ctx, 3), false},
		{"Rset", c.Rset(ctx), false},
		{"Dele again", c.Dele(ctx, 3), true},
		{"Quit", c.Quit(ctx), false},
	}
	for _, s := range steps {
		if (s.err != nil) != s.wantErr {
			t.Errorf("%s = %v, want error: %v", s.name, s.err, s.wantErr)
		}
	}
	if err := c.Noop(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Noop after Quit = %v, want ErrClosed", err)
	}
}

func TestOneCommandAtATime(t *testing.T) {
	const n = 20
	c := fakeClient(t, func(s *fakeServer) {
		for range n {
			s.expect("NOOP")
			s.reply("+OK")
		}
	})
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- c.Noop(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Noop: %v", err)
		}
	}
}
