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

// TestCompareMbsyncImport imports one synthetic Maildir into a fresh
// Dovecot user with mailferry (from an archive of it) and with mbsync
// (Maildir -> IMAP), in turn for MAILFERRY_BENCH_ROUNDS rounds (default 3), and
// prints messages/s, MB/s and peak RSS per round and the medians.
func TestCompareMbsyncImport(t *testing.T) {
	n := messageCount()
	mbsync := testserver.RequireBinary(t, "mbsync")
	users := []testserver.User{}
	for i := range 2 * rounds() {
		users = append(users, testserver.User{Name: fmt.Sprintf("u%d", i), Password: "bench-pw"})
	}
	d := testserver.StartDovecot(t, testserver.Options{Users: users})
	work := t.TempDir()
	corpus := filepath.Join(work, "corpus")
	raw := generateCorpus(t, n, corpus)
	bin := buildMailferry(t, work)
	arch := filepath.Join(work, "archive")
	if out, err := exec.Command(bin, "export", "--from", "maildir:"+corpus, "--archive", arch, "--account", "bench").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	host, port, _ := strings.Cut(d.IMAPAddr, ":")
	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	results := map[string][]timed{}
	for round := range rounds() {
		mfUser, mbUser := users[2*round].Name, users[2*round+1].Name
		results["mailferry"] = append(results["mailferry"], timeRun(t, env, bin, "import", "--archive", arch, "--to", "imap://"+mfUser+"@"+d.IMAPAddr,
			"--tls-ca", d.CAFile, "--connections", envOr("MAILFERRY_BENCH_CONNECTIONS", "1"))) // the command's default
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
	printRounds("into a fresh loopback Dovecot user (STARTTLS)", n, raw, "mailferry", "mbsync", results)
}
