package export

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"
)

func pop3Dialer(t *testing.T, d *testserver.Dovecot, user, password string) (*mailconn.Dialer, string) {
	t.Helper()
	env := "MAILFERRY_TEST_POP3_PW"
	t.Setenv(env, password)
	ep, err := mailconn.ParseEndpoint("pop3://" + user + "@" + d.POP3Addr)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: env}, TLS: mailconn.TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	return dl, ep.String()
}

// maildrop reads every message of a POP3 maildrop: UIDL -> SHA-256.
func maildrop(t *testing.T, dl *mailconn.Dialer) map[string]format.ID {
	t.Helper()
	ctx := context.Background()
	c, err := dl.DialPOP3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uidls, err := c.UIDL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]format.ID{}
	for _, u := range uidls {
		rc, err := c.Retr(ctx, u.Number)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[u.UID] = format.Sum(b)
	}
	return out
}

func pop3Records(t *testing.T, dir, account string) map[string]format.Message {
	t.Helper()
	a, _ := archive.Open(dir)
	snaps, _, _ := a.Snapshots()
	snap, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]format.Message{}
	a.ReadSnapshot(snap.ID, func(rec format.SnapshotRecord) error {
		if m := rec.Message; m != nil {
			out[m.UIDL] = *m
		}
		return nil
	})
	return out
}

// TestPOP3Export archives a POP3 maildrop over STLS: dot-stuffed lines,
// bare-LF mail and a 10 MB message come out as the server holds them, the
// maildrop is unchanged, and a second run fetches only new mail by UIDL.
func TestPOP3Export(t *testing.T) {
	d := startDovecot(t)
	var msgs []testserver.Message
	for i := range 510 {
		msgs = append(msgs, testserver.Message{Body: generated(i, 800+i*7)})
	}
	msgs = append(msgs,
		testserver.Message{Body: []byte("From: x@example.org\r\nReceived: by mx.example.org; Tue, 3 Mar 2020 10:00:00 +0100\r\nSubject: dots\r\n\r\n.\r\n..\r\n.leading dot\r\nend\r\n")},
		testserver.Message{Body: []byte("From: y@example.org\nDate: Wed, 4 Mar 2020 11:00:00 +0000\nSubject: bare LF\n\nline one\nline two\n")},
		testserver.Message{Body: generated(-2, 10<<20)},
	)
	for start := 0; start < len(msgs); start += 200 {
		d.Append(t, testUser, "INBOX", msgs[start:min(start+200, len(msgs))]...)
	}
	dl, endpoint := pop3Dialer(t, d, testUser, testPassword)
	want := maildrop(t, dl)

	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: endpoint, Dial: dl.DialPOP3}), Options{Account: "alice@pop"})
	if err != nil || !rep.Complete() {
		t.Fatalf("export: %v %+v", err, rep)
	}
	got := pop3Records(t, dir, "alice@pop")
	if len(got) != len(want) || rep.Downloaded != int64(len(want)) {
		t.Fatalf("%d records, %d downloaded; maildrop has %d", len(got), rep.Downloaded, len(want))
	}
	for uidl, sum := range want {
		if got[uidl].ID != sum {
			t.Errorf("UIDL %s: archive holds %s, RETR gives %s", uidl, got[uidl].ID.Short(), sum.Short())
		}
	}
	dates := map[string]int{}
	for _, m := range got {
		dates[m.DateSource]++
	}
	if dates[format.DateFromReceived] != 1 || dates[format.DateFromHeader] < 511 {
		t.Errorf("date sources %v", dates)
	}
	for _, m := range got {
		if m.DateSource == format.DateFromReceived && !m.InternalDate.Equal(time.Date(2020, 3, 3, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("Received date %v", m.InternalDate)
		}
	}
	// The maildrop did not change.
	if after := maildrop(t, dl); fmt.Sprint(after) != fmt.Sprint(want) {
		t.Error("maildrop changed by the export")
	}

	d.Append(t, testUser, "INBOX", testserver.Message{Body: generated(7001, 999)}, testserver.Message{Body: generated(7002, 999)})
	rep, err = Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: endpoint, Dial: dl.DialPOP3}), Options{Account: "alice@pop"})
	if err != nil || !rep.Complete() {
		t.Fatalf("second export: %v %+v", err, rep)
	}
	if rep.Downloaded != 2 || rep.Messages != len(want)+2 {
		t.Errorf("second export: %d messages, %d downloaded; want %d and 2", rep.Messages, rep.Downloaded, len(want)+2)
	}
	got = pop3Records(t, dir, "alice@pop")
	for uidl, m := range got {
		if m.InternalDate.IsZero() || (want[uidl] != format.ID{} && want[uidl] != m.ID) {
			t.Errorf("after the second export, UIDL %s: %+v", uidl, m)
		}
	}
}

// TestPOP3DeleteAfterExport deletes only what the archive holds intact.
func TestPOP3DeleteAfterExport(t *testing.T) {
	d := startDovecot(t)
	d.Append(t, "bob", "INBOX", testserver.Message{Body: generated(1, 500)}, testserver.Message{Body: generated(2, 700)})
	dl, endpoint := pop3Dialer(t, d, "bob", "bob-pw")
	want := maildrop(t, dl)
	dir := t.TempDir()
	a, _ := archive.OpenOrCreate(dir)
	rep, err := Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: endpoint, Dial: dl.DialPOP3}), Options{Account: "bob@pop", DeleteAfterExport: true})
	if err != nil || !rep.Complete() || rep.Messages != 2 {
		t.Fatalf("export: %v %+v", err, rep)
	}
	if left := maildrop(t, dl); len(left) != 0 {
		t.Errorf("%d messages left on the server after --delete-after-export", len(left))
	}
	got := pop3Records(t, dir, "bob@pop")
	for uidl, sum := range want {
		if got[uidl].ID != sum {
			t.Errorf("UIDL %s not in the archive", uidl)
		}
	}
}

// TestPOP3ExportSurvivesCutConnections cuts POP3 sessions mid-RETR: the
// export redials, finds its place by UIDL, and ends complete and exact.
func TestPOP3ExportSurvivesCutConnections(t *testing.T) {
	d := startDovecot(t)
	var msgs []testserver.Message
	for i := range 60 {
		msgs = append(msgs, testserver.Message{Body: generated(i, 20000+i*500)})
	}
	d.Append(t, testUser, "INBOX", msgs...)
	proxy := testserver.StartCutProxy(t, d.POP3Addr, 200<<10, 4)
	env := "MAILFERRY_TEST_POP3_CUT"
	t.Setenv(env, testPassword)
	ep, _ := mailconn.ParseEndpoint("pop3://" + testUser + "@" + proxy.Addr)
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: env}, TLS: mailconn.TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, _ := archive.OpenOrCreate(dir)
	rep, err := Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: ep.String(), Dial: dl.DialPOP3}), Options{Account: "alice@pop"})
	if err != nil || !rep.Complete() {
		t.Fatalf("export: %v %+v", err, rep)
	}
	if proxy.Cuts() == 0 {
		t.Fatal("no session was cut")
	}
	direct, _ := pop3Dialer(t, d, testUser, testPassword)
	want := maildrop(t, direct)
	got := pop3Records(t, dir, "alice@pop")
	if len(got) != len(want) {
		t.Fatalf("%d records, maildrop has %d", len(got), len(want))
	}
	for uidl, sum := range want {
		if got[uidl].ID != sum {
			t.Errorf("UIDL %s differs after cuts", uidl)
		}
	}
}
