//go:build bench

package bench

import (
	"context"
	"crypto/sha256"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestVerifySpeed imports one synthetic Maildir into a Dovecot user, then
// times `mailferry verify` (every message fetched and its SHA-256 compared
// with what was sent) beside a raw FETCH of the same account (UID FETCH
// 1:* BODY.PEEK[] per folder, each body hashed and dropped), in turn for
// MAILFERRY_BENCH_ROUNDS rounds.
func TestVerifySpeed(t *testing.T) {
	n := messageCount()
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "v", Password: "bench-pw"}}})
	work := t.TempDir()
	corpus := filepath.Join(work, "corpus")
	raw := generateCorpus(t, n, corpus)
	bin := buildMailferry(t, work)
	arch := filepath.Join(work, "archive")
	if out, err := exec.Command(bin, "export", "--from", "maildir:"+corpus, "--archive", arch, "--account", "bench").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	to := []string{"--archive", arch, "--to", "imap://v@" + d.IMAPAddr, "--tls-ca", d.CAFile}
	timeRun(t, env, bin, append([]string{"import"}, to...)...)
	results := map[string][]timed{}
	for range rounds() {
		results["mailferry verify"] = append(results["mailferry verify"], timeRun(t, env, bin, append([]string{"verify"}, to...)...))
		start := time.Now()
		fetched := rawFetch(t, dialTLS(t, d))
		results["raw FETCH"] = append(results["raw FETCH"], timed{wall: time.Since(start)})
		if fetched != n {
			t.Fatalf("raw FETCH read %d messages, want %d", fetched, n)
		}
	}
	printRounds("verified in a loopback Dovecot user (raw FETCH: go-imap in the test process, RSS not measured)", n, raw, "mailferry verify", "raw FETCH", results)
}

// dialTLS logs in with STARTTLS, as mailferry does.
func dialTLS(t *testing.T, d *testserver.Dovecot) *imapclient.Client {
	t.Setenv("MAILFERRY_BENCH_PW", "bench-pw")
	ep, err := mailconn.ParseEndpoint("imap://v@" + d.IMAPAddr)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: "MAILFERRY_BENCH_PW"}, TLS: mailconn.TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dl.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawFetch reads every message of the account once and hashes it.
func rawFetch(t *testing.T, c *imapclient.Client) int {
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, l := range list {
		sel, err := c.Select(l.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for it := msg.Next(); it != nil; it = msg.Next() {
				if b, ok := it.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
					h := sha256.New()
					io.Copy(h, b.Literal)
					count++
				}
			}
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return count
}
