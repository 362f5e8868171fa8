//go:build bench

package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
)

// timed is one whole-process run measured by /usr/bin/time -v.
type timed struct {
	wall   time.Duration
	rssKiB int64
}

var (
	wallRE = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)`)
	rssRE  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
)

func timeRun(t *testing.T, env []string, name string, args ...string) timed {
	t.Helper()
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out.String())
	}
	m := wallRE.FindStringSubmatch(out.String())
	r := rssRE.FindStringSubmatch(out.String())
	if m == nil || r == nil {
		t.Fatalf("no /usr/bin/time figures in:\n%s", out.String())
	}
	h, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	sec, _ := strconv.ParseFloat(m[3], 64)
	rss, _ := strconv.ParseInt(r[1], 10, 64)
	return timed{wall: time.Duration((float64(h*3600+min*60) + sec) * float64(time.Second)), rssKiB: rss}
}

// chownTree gives the mail files to the uid Dovecot reads mail as.
func chownTree(t *testing.T, dir string) {
	u, err := user.Lookup("nobody")
	if err != nil || os.Getuid() != 0 {
		return
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, uid, gid)
		}
		return nil
	})
}

// TestCompareMbsync exports one Dovecot account with mailferry and with
// mbsync, each twice in turn, and prints messages/s, MB/s and peak RSS.
// MAILFERRY_BENCH_MESSAGES sets the size (default 20000).
func TestCompareMbsync(t *testing.T) {
	n := 20000
	if s := os.Getenv("MAILFERRY_BENCH_MESSAGES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	mbsync := testserver.RequireBinary(t, "mbsync")
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bench", Password: "bench-pw"}}})
	work := t.TempDir()
	maildir := d.MaildirPath("bench")

	gen := exec.Command("go", "run", "./corpusgen", "-n", strconv.Itoa(n), "-out", maildir)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("corpusgen: %v\n%s", err, out)
	}
	chownTree(t, filepath.Dir(maildir))
	var raw int64
	filepath.Walk(maildir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, "/cur/") {
			raw += fi.Size()
		}
		return nil
	})
	bin := filepath.Join(work, "mailferry")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mailferry").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
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
	for round := range 2 {
		arch := filepath.Join(work, fmt.Sprintf("archive%d", round))
		results["mailferry"] = append(results["mailferry"], timeRun(t, env, bin, "export", "--from", "imap://bench@"+d.IMAPAddr,
			"--archive", arch, "--tls-ca", d.CAFile, "--compression", compression()))
		os.RemoveAll(filepath.Join(work, "mbsync"))
		os.MkdirAll(filepath.Join(work, "mbsync"), 0o755)
		results["mbsync"] = append(results["mbsync"], timeRun(t, nil, mbsync, "-c", rc, "-a", "-q"))
	}
	fmt.Printf("\n%d messages, %.1f MB from a loopback Dovecot (STARTTLS), two rounds each, A B A B:\n", n, float64(raw)/1e6)
	fmt.Printf("%-10s %8s %12s %10s %14s\n", "tool", "round", "messages/s", "MB/s", "peak RSS MiB")
	for round := range 2 {
		for _, tool := range []string{"mailferry", "mbsync"} {
			r := results[tool][round]
			fmt.Printf("%-10s %8d %12.0f %10.1f %14.1f\n", tool, round+1, float64(n)/r.wall.Seconds(), float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
		}
	}
}

// compression is the --compression level the benchmark exports with:
// MAILFERRY_BENCH_COMPRESSION, default better.
func compression() string {
	if c := os.Getenv("MAILFERRY_BENCH_COMPRESSION"); c != "" {
		return c
	}
	return "better"
}
