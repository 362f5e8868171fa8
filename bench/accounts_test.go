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

// bulkSize is the bulk benchmarks' size: MAILFERRY_BENCH_ACCOUNTS accounts
// (default 20) of MAILFERRY_BENCH_MESSAGES messages each (default 1000).
func bulkSize() (accounts, messages int) {
	messages = 1000
	if os.Getenv("MAILFERRY_BENCH_MESSAGES") != "" {
		messages = messageCount()
	}
	accounts, _ = strconv.Atoi(envOr("MAILFERRY_BENCH_ACCOUNTS", "20"))
	return accounts, messages
}

// bulkRuns are the runs of a bulk benchmark: one process per account, then
// --accounts at each --parallel.
var bulkRuns = []string{"one process per account", "--parallel 1", "--parallel 2", "--parallel 4", "--parallel 8"}

// measureBulk times each of bulkRuns (run s: one(s, i) for each account
// when s is 0, else many(s, parallel)) and prints its total throughput and
// peak RSS.
func measureBulk(title string, accounts, n int, raw int64, one func(s, i int) timed, many func(s int, parallel string) timed) {
	fmt.Printf("\n%d accounts of %d messages (%.1f MB each) %s:\n", accounts, n, float64(raw)/1e6, title)
	fmt.Printf("%-26s %12s %10s %14s\n", "run", "messages/s", "MB/s", "peak RSS MiB")
	for s, run := range bulkRuns {
		var r timed
		if s == 0 {
			for i := range accounts {
				t := one(s, i)
				r.wall += t.wall
				r.rssKiB = max(r.rssKiB, t.rssKiB)
			}
		} else {
			r = many(s, strings.Fields(run)[1])
		}
		fmt.Printf("%-26s %12.0f %10.1f %14.1f\n", run, float64(accounts*n)/r.wall.Seconds(), float64(accounts)*float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
	}
}

// TestBulkImportSpeed imports the accounts of bulkSize from one archive
// into fresh Dovecot users, as measureBulk runs them.
func TestBulkImportSpeed(t *testing.T) {
	accounts, n := bulkSize()
	var users []testserver.User
	for s := range bulkRuns {
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
	measureBulk("into fresh loopback Dovecot users (STARTTLS)", accounts, n, raw,
		func(s, i int) timed {
			return timeRun(t, env, bin, "import", "--archive", arch, "--account", fmt.Sprintf("acct%d", i),
				"--to", fmt.Sprintf("imap://b%d-%d@%s", s, i, d.IMAPAddr), "--tls-ca", d.CAFile)
		},
		func(s int, parallel string) timed {
			file := filepath.Join(work, fmt.Sprintf("accounts%d.csv", s))
			var b strings.Builder
			b.WriteString("account,destination,destination_user,destination_password_env\n")
			for i := range accounts {
				fmt.Fprintf(&b, "acct%d,imap://%s,b%d-%d,MAILFERRY_PASSWORD\n", i, d.IMAPAddr, s, i)
			}
			os.WriteFile(file, []byte(b.String()), 0o600)
			return timeRun(t, env, bin, "import", "--archive", arch, "--accounts", file, "--parallel", parallel, "--tls-ca", d.CAFile)
		})
}
