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

// TestBulkImportSpeed imports MAILFERRY_BENCH_ACCOUNTS accounts (default
// 20) of MAILFERRY_BENCH_MESSAGES messages each (default 1000) from one
// archive into fresh Dovecot users: one mailferry process per account run
// one after another, then import --accounts with --parallel 1, 2, 4 and 8,
// and prints the total throughput and peak RSS of each.
func TestBulkImportSpeed(t *testing.T) {
	n := 1000
	if os.Getenv("MAILFERRY_BENCH_MESSAGES") != "" {
		n = messageCount()
	}
	accounts, _ := strconv.Atoi(envOr("MAILFERRY_BENCH_ACCOUNTS", "20"))
	settings := []string{"one process per account", "--parallel 1", "--parallel 2", "--parallel 4", "--parallel 8"}
	var users []testserver.User
	for s := range settings {
		for i := range accounts {
			users = append(users, testserver.User{Name: fmt.Sprintf("b%d-%d", s, i), Password: "bench-pw"})
		}
	}
	d := testserver.StartDovecot(t, testserver.Options{Users: users})
	work := t.TempDir()
	corpus := filepath.Join(work, "corpus")
	raw := generateCorpus(t, n, corpus)
	bin := buildMailferry(t, work)
	arch := filepath.Join(work, "archive")
	for i := range accounts {
		if out, err := exec.Command(bin, "export", "--from", "maildir:"+corpus, "--archive", arch, "--account", fmt.Sprintf("acct%d", i)).CombinedOutput(); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
	}
	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	fmt.Printf("\n%d accounts of %d messages (%.1f MB each) into fresh loopback Dovecot users (STARTTLS):\n", accounts, n, float64(raw)/1e6)
	fmt.Printf("%-26s %12s %10s %14s\n", "run", "messages/s", "MB/s", "peak RSS MiB")
	for s, setting := range settings {
		var r timed
		if s == 0 {
			for i := range accounts {
				one := timeRun(t, env, bin, "import", "--archive", arch, "--account", fmt.Sprintf("acct%d", i),
					"--to", fmt.Sprintf("imap://b0-%d@%s", i, d.IMAPAddr), "--tls-ca", d.CAFile)
				r.wall += one.wall
				r.rssKiB = max(r.rssKiB, one.rssKiB)
			}
		} else {
			file := filepath.Join(work, fmt.Sprintf("accounts%d.csv", s))
			var b strings.Builder
			b.WriteString("account,destination,destination_user,destination_password_env\n")
			for i := range accounts {
				fmt.Fprintf(&b, "acct%d,imap://%s,b%d-%d,MAILFERRY_PASSWORD\n", i, d.IMAPAddr, s, i)
			}
			os.WriteFile(file, []byte(b.String()), 0o600)
			r = timeRun(t, env, bin, "import", "--archive", arch, "--accounts", file, "--parallel", strings.Fields(setting)[1], "--tls-ca", d.CAFile)
		}
		total := float64(accounts * n)
		fmt.Printf("%-26s %12.0f %10.1f %14.1f\n", setting, total/r.wall.Seconds(), float64(accounts)*float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
	}
}
