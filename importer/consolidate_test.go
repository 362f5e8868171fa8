package importer

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestConsolidatePOP3Accounts archives two POP3 mailboxes and imports them
// one after the other into two folders of one IMAP account (pop2imap's
// job, with the folders created): each message lands once, byte for byte
// as RETR served it, and a repeat appends nothing.
func TestConsolidatePOP3Accounts(t *testing.T) {
	pop := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}, {Name: "ben", Password: "ben-pw"}}})
	imapDst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "team", Password: "team-pw"}}})
	pop.Append(t, "ann", "INBOX", testserver.Message{Body: testMessage(1, 700)}, testserver.Message{Body: testMessage(2, 9000)},
		testserver.Message{Body: []byte("Subject: dots\r\n\r\n.\r\n..\r\nend\r\n")})
	pop.Append(t, "ben", "INBOX", testserver.Message{Body: testMessage(3, 500)}, testserver.Message{Body: testMessage(1, 700)})

	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	retr := map[string][]string{} // account -> sums RETR gives
	for _, u := range []struct{ name, pw string }{{"ann", "ann-pw"}, {"ben", "ben-pw"}} {
		t.Setenv("MAILFERRY_TEST_POP", u.pw)
		ep, _ := mailconn.ParseEndpoint("pop3://" + u.name + "@" + pop.POP3Addr)
		dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_TEST_POP"}, TLS: mailconn.TLSOptions{CAFile: pop.CAFile}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := export.Run(context.Background(), a, export.NewPOP3Source(export.POP3Config{Endpoint: ep.String(), Dial: dl.DialPOP3}), export.Options{Account: u.name + "@pop"})
		if err != nil || !rep.Complete() {
			t.Fatalf("export %s: %v %+v", u.name, err, rep)
		}
		c, err := dl.DialPOP3(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		list, _ := c.List(context.Background())
		for _, m := range list {
			rc, _ := c.Retr(context.Background(), m.Number)
			b, _ := io.ReadAll(rc)
			rc.Close()
			retr[u.name] = append(retr[u.name], format.Sum(b).String())
		}
		c.Close()
	}

	manifest := filepath.Join(t.TempDir(), "team.jsonl")
	importInto := func(account, into string) *ImportReport {
		m, err := OpenManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		snaps, _, _ := a.Snapshots()
		snap, err := archive.SelectSnapshot(snaps, account, "")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ImportIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, imapDst, imapDst.IMAPAddr, "team", "team-pw"),
			DialAppender: appenderFor(t, imapDst, imapDst.IMAPAddr, "team", "team-pw"), Snapshot: snap, Manifest: m, Folders: foldermap.Options{Into: into}})
		if err != nil || !rep.Complete() {
			t.Fatalf("import %s: %v %+v", account, err, rep)
		}
		return rep
	}
	for round := range 2 {
		ra := importInto("ann@pop", "POP/ann")
		rb := importInto("ben@pop", "POP/ben")
		want := 3 + 2
		if round == 1 {
			want = 0
		}
		if ra.Appended+rb.Appended != want {
			t.Errorf("round %d: appended %d + %d, want %d in all", round, ra.Appended, rb.Appended, want)
		}
	}
	c := imapDst.Login(t, "team")
	for account, folder := range map[string]string{"ann": "POP/ann", "ben": "POP/ben"} {
		if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("%s: %v", folder, err)
		}
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range msgs {
			got = append(got, format.Sum(m.FindBodySection(&imap.FetchItemBodySection{})).String())
		}
		want := retr[account]
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %d messages, %s's maildrop %d, or their bytes differ", folder, len(got), account, len(want))
		}
	}
}
