//go:build bench

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

// TestCompareMbsync exports one Dovecot account with mailferry and with
// mbsync, in turn for MAILFERRY_BENCH_ROUNDS rounds (default 3), and prints
// messages/s, MB/s and peak RSS per round and the medians.
// MAILFERRY_BENCH_MESSAGES sets the size (default 20000).
func TestCompareMbsync(t *testing.T) {
	n := messageCount()
	mbsync := testserver.RequireBinary(t, "mbsync")
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bench", Password: "bench-pw"}}})
	work := t.TempDir()
	maildir := d.MaildirPath("bench")

	raw := generateCorpus(t, n, maildir)
	chownTree(t, filepath.Dir(maildir))
	bin := buildMailferry(t, work)
	rc := filepath.Join(work, "mbsyncrc")
	host, port, _ := strings.Cut(d.IMAPAddr, ":")
	os.WriteFile(rc, []byte(fmt.Sprintf(`IMAPAccount bench
Host %s
Port %s
User bench
Pass bench-pw
SSLType STARTTLS
CertificateFile %s
PipelineDepth 50

IMAPStore remote
Account bench

MaildirStore local
Path %s/mbsync/
Inbox %s/mbsync/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns *
Create Near
Sync Pull
SyncState *
`, host, port, d.CAFile, work, work)), 0o600)

	env := []string{"MAILFERRY_PASSWORD=bench-pw"}
	var results = map[string][]timed{}
	for round := range rounds() {
		arch := filepath.Join(work, fmt.Sprintf("archive%d", round))
		// The command's defaults unless the environment says otherwise.
		results["mailferry"] = append(results["mailferry"], timeRun(t, env, bin, "export", "--from", "imap://bench@"+d.IMAPAddr,
			"--archive", arch, "--tls-ca", d.CAFile,
			"--compression", envOr("MAILFERRY_BENCH_COMPRESSION", "fast"), "--connections", envOr("MAILFERRY_BENCH_CONNECTIONS", "4")))
		os.RemoveAll(filepath.Join(work, "mbsync"))
		os.MkdirAll(filepath.Join(work, "mbsync"), 0o755)
		results["mbsync"] = append(results["mbsync"], timeRun(t, nil, mbsync, "-c", rc, "-a", "-q"))
	}
	printRounds("from a loopback Dovecot (STARTTLS)", n, raw, "mailferry", "mbsync", results)
}
