package export

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// TestPOP3RepeatedUIDLs serves a maildrop whose server gives two (then
// three) messages one UIDL: every export records each message under a
// UIDL of its own, so an incremental export keeps them all and an import
// (which keys on folder and UIDL) appends them all; a warning says so.
func TestPOP3RepeatedUIDLs(t *testing.T) {
	a1 := "Subject: a1\r\n\r\nfirst of x\r\n"
	a2 := "Subject: a2\r\n\r\nsecond of x\r\n"
	b := "Subject: b\r\n\r\nonly y\r\n"
	a3 := "Subject: a3\r\n\r\nthird of x\r\n"
	c := "Subject: c\r\n\r\nnew z\r\n"
	md := &fakeMaildrop{}
	addr := startFakePOP3Server(t, md)
	t.Setenv("MAILFERRY_TEST_REPEAT", "pw")
	ep, _ := mailconn.ParseEndpoint("pop3://rep@" + addr)
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_TEST_REPEAT"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := archive.OpenOrCreate(t.TempDir())
	for _, run := range []struct {
		msgs, uidls []string
		downloads   int64
		want        map[string]string // UIDL -> message
	}{
		{[]string{a1, b, a2}, []string{"x", "y", "x"}, 3, map[string]string{"x": a1, "y": b, "x #2": a2}},
		// The next run finds the first three by UIDL and reads only the new.
		{[]string{a1, b, a2, a3, c}, []string{"x", "y", "x", "x", "z"}, 2, map[string]string{"x": a1, "y": b, "x #2": a2, "x #3": a3, "z": c}},
	} {
		md.set(run.msgs, run.uidls)
		rep, err := Run(context.Background(), a, NewPOP3Source(POP3Config{Endpoint: ep.String(), UserHost: "rep@fake", Dial: dl.DialPOP3}), Options{})
		if err != nil || !rep.Complete() {
			t.Fatalf("export: %v %+v", err, rep)
		}
		if rep.Downloaded != run.downloads || !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, "repeats UIDLs") }) {
			t.Errorf("%d messages downloaded (want %d), warnings %q", rep.Downloaded, run.downloads, rep.Warnings)
		}
		if rep.Account != "pop3:rep@fake" {
			t.Errorf("account %q, want pop3:rep@fake", rep.Account)
		}
		got := pop3Records(t, a.Dir(), rep.Account)
		if len(got) != len(run.want) {
			t.Errorf("%d records, want %d: %v", len(got), len(run.want), got)
		}
		for uidl, msg := range run.want {
			if got[uidl].ID != format.Sum([]byte(msg)) {
				t.Errorf("UIDL %q: archive holds %s, want the message %q", uidl, got[uidl].ID.Short(), msg)
			}
		}
	}
}
