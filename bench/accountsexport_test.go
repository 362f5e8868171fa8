//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

// TestBulkExportSpeed exports the accounts of bulkSize, Dovecot users
// holding one synthetic Maildir each, into fresh archives, as measureBulk
// runs them.
func TestBulkExportSpeed(t *testing.T) {
	accounts, n := bulkSize()
	var users []testserver.User
	for i := range accounts {
		users = append(users, testserver.User{Name: fmt.Sprintf("x%d", i), Password: "bench-pw"})
	}
	d := testserver.StartDovecot(t, testserver.Options{Users: users})
	work := t.TempDir()
	corpus := filepath.Join(work, "corpus")
	raw := generateCorpus(t, n, corpus)
	for _, u := range users {
		dst := d.MaildirPath(u.Name)
		os.RemoveAll(dst)
		if out, err := exec.Command("cp", "-a", corpus, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
		chownTree(t, filepath.Dir(dst))
	}
	bin := buildMailferry(t, work)
	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	file := filepath.Join(work, "accounts.csv")
	var b strings.Builder
	b.WriteString("account,source,source_user,source_password_env\n")
	for i := range accounts {
		fmt.Fprintf(&b, "acct%d,imap://%s,x%d,MAILFERRY_PASSWORD\n", i, d.IMAPAddr, i)
	}
	os.WriteFile(file, []byte(b.String()), 0o600)
	archive := func(s int) string { return filepath.Join(work, fmt.Sprintf("archive%d", s)) }
	measureBulk("from a loopback Dovecot (STARTTLS) into fresh archives", accounts, n, raw,
		func(s, i int) timed {
			return timeRun(t, env, bin, "export", "--from", fmt.Sprintf("imap://x%d@%s", i, d.IMAPAddr), "--archive", archive(s),
				"--account", fmt.Sprintf("acct%d", i), "--tls-ca", d.CAFile)
		},
		func(s int, parallel string) timed {
			return timeRun(t, env, bin, "export", "--archive", archive(s), "--accounts", file, "--parallel", parallel, "--tls-ca", d.CAFile)
		})
}
