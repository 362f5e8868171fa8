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
	if os.Getenv("MAILFERRY_BENCH_SHOW") != "" {
		t.Log(out.String())
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

// messageCount is the benchmark's size: MAILFERRY_BENCH_MESSAGES, default
// 20000.
func messageCount() int {
	if s := os.Getenv("MAILFERRY_BENCH_MESSAGES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return 20000
}

// generateCorpus writes n synthetic messages as a Maildir at dir with
// bench/corpusgen and returns the bytes of mail written.
func generateCorpus(t *testing.T, n int, dir string) int64 {
	t.Helper()
	if out, err := exec.Command("go", "run", "./corpusgen", "-n", strconv.Itoa(n), "-out", dir).CombinedOutput(); err != nil {
		t.Fatalf("corpusgen: %v\n%s", err, out)
	}
	var raw int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, "/cur/") {
			raw += fi.Size()
		}
		return nil
	})
	return raw
}

// buildMailferry builds the command into dir and returns its path.
func buildMailferry(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mailferry")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mailferry").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// printRounds prints each tool's figures per round.
func printRounds(title string, n int, raw int64, results map[string][]timed) {
	fmt.Printf("\n%d messages, %.1f MB %s, two rounds each, A B A B:\n", n, float64(raw)/1e6, title)
	fmt.Printf("%-10s %8s %12s %10s %14s\n", "tool", "round", "messages/s", "MB/s", "peak RSS MiB")
	for round := range 2 {
		for _, tool := range []string{"mailferry", "mbsync"} {
			r := results[tool][round]
			fmt.Printf("%-10s %8d %12.0f %10.1f %14.1f\n", tool, round+1, float64(n)/r.wall.Seconds(), float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024)
		}
	}
}
