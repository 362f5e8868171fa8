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

// TestCompareMbsyncImport imports one synthetic Maildir into a fresh
// Dovecot user with mailferry (from an archive of it) and with mbsync
// (Maildir -> IMAP), twice each, and prints messages/s, MB/s and peak RSS.
func TestCompareMbsyncImport(t *testing.T) {
	n := 20000
	if s := os.Getenv("MAILFERRY_BENCH_MESSAGES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	mbsync := testserver.RequireBinary(t, "mbsync")
	users := []testserver.User{}
	for i := range 4 {
		users = append(users, testserver.User{Name: fmt.Sprintf("u%d", i), Password: "bench-pw"})
	}
	d := testserver.StartDovecot(t, testserver.Options{Users: users})
	work := t.TempDir()
	corpus := filepath.Join(work, "corpus")
	if out, err := exec.Command("go", "run", "./corpusgen", "-n", strconv.Itoa(n), "-out", corpus).CombinedOutput(); err != nil {
		t.Fatalf("corpusgen: %v\n%s", err, out)
	}
	var raw int64
	filepath.Walk(corpus, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, "/cur/") {
			raw += fi.Size()
		}
		return nil
	})
	bin := filepath.Join(work, "mailferry")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mailferry").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	arch := filepath.Join(work, "archive")
	if out, err := exec.Command(bin, "export", "--from", "maildir:"+corpus, "--archive", arch, "--account", "bench").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	host, port, _ := strings.Cut(d.IMAPAddr, ":")
	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	results := map[string][]timed{}
	for round := range 2 {
		mfUser, mbUser := users[2*round].Name, users[2*round+1].Name
		results["mailferry"] = append(results["mailferry"], timeRun(t, env, bin, "import", "--archive", arch, "--to", "imap://"+mfUser+"@"+d.IMAPAddr,
			"--tls-ca", d.CAFile, "--connections", importConnections()))
		rc := filepath.Join(work, fmt.Sprintf("mbsyncrc%d", round))
		os.WriteFile(rc, []byte(fmt.Sprintf(`IMAPAccount bench
Host %s
Port %s
User %s
Pass bench-pw
SSLType STARTTLS
CertificateFile %s
PipelineDepth 50

IMAPStore remote
Account bench

MaildirStore local
Inbox %s
SubFolders Maildir++

Channel bench
Far :remote:
Near :local:
Patterns *
Create Far
Sync Push
CopyArrivalDate yes
SyncState %s/state%d/
`, host, port, mbUser, d.CAFile, corpus, work, round)), 0o600)
		os.MkdirAll(filepath.Join(work, fmt.Sprintf("state%d", round)), 0o755)
		results["mbsync"] = append(results["mbsync"], timeRun(t, nil, mbsync, "-c", rc, "-a", "-q"))
	}
	fmt.Printf("\n%d messages, %.1f MB into a fresh loopback Dovecot user (STARTTLS), two rounds each, A B A B:\n", n, float64(raw)/1e6)
	fmt.Printf("%-10s %8s %12s %10s %14s\n", "tool", "round", "messages/s", "MB/s", "peak RSS MiB")
	for round := range 2 {
		for _, tool := range []string{"mailferry", "mbsync"} {
			r := results[tool][round]
			fmt.Printf("%-10s %8d %12.0f %10.1f %14.1f\n", tool, round+1, float64(n)/r.wall.Seconds(), float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
		}
	}
}

// importConnections is --connections for the import benchmark:
// MAILFERRY_BENCH_CONNECTIONS, default 1 (the command's default).
func importConnections() string {
	if c := os.Getenv("MAILFERRY_BENCH_CONNECTIONS"); c != "" {
		return c
	}
	return "1"
}
