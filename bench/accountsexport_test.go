//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

// TestBulkExportSpeed exports MAILFERRY_BENCH_ACCOUNTS Dovecot accounts
// (default 20) of MAILFERRY_BENCH_MESSAGES messages each (default 1000)
// into fresh archives: one mailferry process per account run one after
// another, then export --accounts with --parallel 1, 2, 4 and 8, and prints
// the total throughput and peak RSS of each.
func TestBulkExportSpeed(t *testing.T) {
	n := 1000
	if os.Getenv("MAILFERRY_BENCH_MESSAGES") != "" {
		n = messageCount()
	}
	accounts, _ := strconv.Atoi(envOr("MAILFERRY_BENCH_ACCOUNTS", "20"))
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
	fmt.Printf("\n%d accounts of %d messages (%.1f MB each) from a loopback Dovecot (STARTTLS) into fresh archives:\n", accounts, n, float64(raw)/1e6)
	fmt.Printf("%-26s %12s %10s %14s\n", "run", "messages/s", "MB/s", "peak RSS MiB")
	for s, setting := range []string{"one process per account", "--parallel 1", "--parallel 2", "--parallel 4", "--parallel 8"} {
		arch := filepath.Join(work, fmt.Sprintf("archive%d", s))
		var r timed
		if s == 0 {
			for i := range accounts {
				one := timeRun(t, env, bin, "export", "--from", fmt.Sprintf("imap://x%d@%s", i, d.IMAPAddr), "--archive", arch,
					"--account", fmt.Sprintf("acct%d", i), "--tls-ca", d.CAFile)
				r.wall += one.wall
				r.rssKiB = max(r.rssKiB, one.rssKiB)
			}
		} else {
			r = timeRun(t, env, bin, "export", "--archive", arch, "--accounts", file, "--parallel", strings.Fields(setting)[1], "--tls-ca", d.CAFile)
		}
		fmt.Printf("%-26s %12.0f %10.1f %14.1f\n", setting, float64(accounts*n)/r.wall.Seconds(), float64(accounts)*float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
	}
}
