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
	"slices"
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

// envOr is the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// rounds is how many times each tool runs, alternating:
// MAILFERRY_BENCH_ROUNDS, default 3. The machines are noisy; the median
// round and the ratio within each round say more than any one run.
func rounds() int {
	if s := os.Getenv("MAILFERRY_BENCH_ROUNDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 3
}

// printRounds prints each tool's figures per round, tool a's speed as a
// multiple of tool b's in the same round, and the medians.
func printRounds(title string, n int, raw int64, a, b string, results map[string][]timed) {
	k := len(results[a])
	fmt.Printf("\n%d messages, %.1f MB %s, %d rounds, A B A B:\n", n, float64(raw)/1e6, title, k)
	fmt.Printf("%-16s %6s %12s %10s %14s %8s\n", "tool", "round", "messages/s", "MB/s", "peak RSS MiB", "ratio")
	rate := func(r timed) float64 { return float64(n) / r.wall.Seconds() }
	var ratios []float64
	for round := range k {
		ratios = append(ratios, rate(results[a][round])/rate(results[b][round]))
		for _, tool := range []string{a, b} {
			r := results[tool][round]
			ratio := ""
			if tool == a {
				ratio = fmt.Sprintf("%.2f", ratios[round])
			}
			fmt.Printf("%-16s %6d %12.0f %10.1f %14.1f %8s\n", tool, round+1, rate(r), float64(raw)/1e6/r.wall.Seconds(), float64(r.rssKiB)/1024, ratio)
		}
	}
	for _, tool := range []string{a, b} {
		var rates []float64
		var rss int64
		for _, r := range results[tool] {
			rates = append(rates, rate(r))
			rss = max(rss, r.rssKiB)
		}
		fmt.Printf("median %-16s %8.0f messages/s, peak RSS %.1f MiB at most\n", tool, median(rates), float64(rss)/1024)
	}
	fmt.Printf("median ratio %s/%s within a round: %.2f\n", a, b, median(ratios))
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
