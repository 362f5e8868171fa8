package export

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// fakeMaildrop is a POP3 maildrop served by startFakePOP3Server. uidls nil
// means the server has no UIDL, as some old servers do; tests may change
// both between sessions.
type fakeMaildrop struct {
	mu    sync.Mutex
	msgs  []string
	uidls []string
}

func (m *fakeMaildrop) set(msgs, uidls []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs, m.uidls = msgs, uidls
}

// startFakePOP3Server serves md over POP3 on loopback for what Dovecot will
// not do (no UIDL, repeated UIDLs) and returns its address.
func startFakePOP3Server(t *testing.T, md *fakeMaildrop) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFakePOP3(conn, md)
		}
	}()
	return ln.Addr().String()
}

func serveFakePOP3(conn net.Conn, md *fakeMaildrop) {
	defer conn.Close()
	md.mu.Lock()
	msgs, uidls := md.msgs, md.uidls
	md.mu.Unlock()
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "+OK fake server ready\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "CAPA":
			if uidls != nil {
				fmt.Fprint(conn, "+OK\r\nUSER\r\nUIDL\r\n.\r\n")
			} else {
				fmt.Fprint(conn, "+OK\r\nUSER\r\n.\r\n")
			}
		case "USER", "PASS", "NOOP", "RSET":
			fmt.Fprint(conn, "+OK\r\n")
		case "STAT":
			fmt.Fprintf(conn, "+OK %d 0\r\n", len(msgs))
		case "LIST":
			fmt.Fprint(conn, "+OK\r\n")
			for i, m := range msgs {
				fmt.Fprintf(conn, "%d %d\r\n", i+1, len(m))
			}
			fmt.Fprint(conn, ".\r\n")
		case "UIDL":
			if uidls == nil {
				fmt.Fprint(conn, "-ERR not supported\r\n")
				continue
			}
			fmt.Fprint(conn, "+OK\r\n")
			for i, u := range uidls {
				fmt.Fprintf(conn, "%d %s\r\n", i+1, u)
			}
			fmt.Fprint(conn, ".\r\n")
		case "RETR":
			var n int
			fmt.Sscan(f[1], &n)
			fmt.Fprint(conn, "+OK\r\n"+strings.ReplaceAll("\n"+msgs[n-1], "\n.", "\n..")[1:]+".\r\n")
		case "QUIT":
			fmt.Fprint(conn, "+OK bye\r\n")
			return
		default:
			fmt.Fprint(conn, "-ERR not supported\r\n")
		}
	}
}

// TestPOP3WithoutUIDL: with no UIDL every message is downloaded each time
// and recognised by its content, so nothing is stored twice; a warning
// says so.
func TestPOP3WithoutUIDL(t *testing.T) {
	msgs := []string{
		"Subject: one\r\n\r\nfirst\r\n",
		"Subject: two\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\n\r\n.dot line\r\n",
		"Subject: three\r\n\r\nthird\r\n",
	}
	addr := startFakePOP3Server(t, &fakeMaildrop{msgs: msgs})
	t.Setenv("MAILFERRY_TEST_NOUIDL", "pw")
	ep, _ := mailconn.ParseEndpoint("pop3://old@" + addr)
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_TEST_NOUIDL"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := archive.OpenOrCreate(t.TempDir())
	for run := range 2 {
		rep, err := Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: ep.String(), Dial: dl.DialPOP3}), Options{Account: "old@pop"})
		if err != nil || !rep.Complete() {
			t.Fatalf("run %d: %v %+v", run, err, rep)
		}
		if rep.Messages != 3 || rep.Downloaded != 3 || !strings.Contains(strings.Join(rep.Warnings, " "), "no UIDL") {
			t.Errorf("run %d: %d messages, %d downloaded, warnings %v", run, rep.Messages, rep.Downloaded, rep.Warnings)
		}
		if want := int64(3 * (1 - run)); rep.NewMessages != want {
			t.Errorf("run %d: %d new messages stored, want %d", run, rep.NewMessages, want)
		}
	}
}

// TestPOP3DryRunStoresNothing: a POP3 dry run lists the maildrop (and
// what is new against the archive) and stores nothing.
func TestPOP3DryRunStoresNothing(t *testing.T) {
	md := &fakeMaildrop{msgs: []string{"Subject: 1\r\n\r\none\r\n", "Subject: 2\r\n\r\ntwo\r\n"}, uidls: []string{"u1", "u2"}}
	addr := startFakePOP3Server(t, md)
	t.Setenv("MAILFERRY_TEST_DRYRUN", "pw")
	ep, _ := mailconn.ParseEndpoint("pop3://dry@" + addr)
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_TEST_DRYRUN"}})
	if err != nil {
		t.Fatal(err)
	}
	src := func() Source {
		return NewPOP3Source(POP3Config{Endpoint: ep.String(), UserHost: "dry@fake", Dial: dl.DialPOP3})
	}
	a, _ := archive.OpenOrCreate(t.TempDir())
	for _, tc := range []struct {
		dryRun   bool
		messages int
		new      int
		snaps    int // in the archive after the run
	}{
		{true, 2, 2, 0},
		{false, 2, 2, 1},
		{true, 2, 0, 1}, // after the export, nothing is new
	} {
		rep, err := Run(context.Background(), a, src(), Options{DryRun: tc.dryRun})
		if err != nil {
			t.Fatal(err)
		}
		snaps, _, _ := a.Snapshots()
		if !tc.dryRun {
			if len(snaps) != tc.snaps || rep.Messages != tc.messages {
				t.Errorf("export: %d snapshots, %d messages", len(snaps), rep.Messages)
			}
			continue
		}
		if len(rep.Plan) != 1 || rep.Plan[0].Messages != tc.messages || rep.Plan[0].New != tc.new || len(snaps) != tc.snaps {
			t.Errorf("dry run: plan %+v, %d snapshots", rep.Plan, len(snaps))
		}
	}
}
