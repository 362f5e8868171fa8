package testserver

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// startAttempts bounds retries after another process took one of the
	// ports chosen by freeLoopbackAddrs before Dovecot could bind it.
	startAttempts = 5
	// startTimeout is generous because CI machines can be slow; a healthy
	// start takes well under a second.
	startTimeout = 20 * time.Second
	// logTailBytes is how much of the log failure messages quote.
	logTailBytes = 4096
)

// missingService matches the fatal error of a Dovecot whose protocol
// package (dovecot-pop3d, dovecot-imapd) is not installed.
var missingService = regexp.MustCompile(`service\([a-z0-9-]+\) access\([^)]*\) failed: No such file or directory`)

// startWithRetry starts Dovecot on fresh ports until one attempt succeeds,
// and arranges for it to be stopped when the test ends.
func (d *Dovecot) startWithRetry(t testing.TB, bin string, cfg dovecotConfig) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		logStart := fileSize(d.LogFile)
		err := d.startOnce(bin, cfg)
		if err == nil {
			break
		}
		attemptLog := readFileFrom(d.LogFile, logStart)
		if strings.Contains(attemptLog, "Address already in use") && attempt < startAttempts {
			continue
		}
		if m := missingService.FindString(attemptLog); m != "" {
			skipOrFail(t, "dovecot cannot run a service ("+m+"); .ci/run installs dovecot-imapd dovecot-pop3d")
		}
		t.Fatalf("testserver: start dovecot (attempt %d): %v\nlog tail:\n%s", attempt, err, d.LogTail())
	}
	t.Cleanup(func() {
		if err := d.proc.stop(); err != nil {
			t.Errorf("testserver: stop dovecot: %v\nlog tail:\n%s", err, d.LogTail())
		}
	})
}

// startOnce writes a config with new ports, starts Dovecot and waits until
// it listens.
func (d *Dovecot) startOnce(bin string, cfg dovecotConfig) error {
	addrs, err := pickAddrs(4)
	if err != nil {
		return err
	}
	ports := make([]string, len(addrs))
	for i, addr := range addrs {
		if _, ports[i], err = net.SplitHostPort(addr); err != nil {
			return err
		}
	}
	cfg.IMAPPort, cfg.IMAPSPort, cfg.POP3Port, cfg.POP3SPort = ports[0], ports[1], ports[2], ports[3]

	// A failed attempt may leave a master.pid or sockets behind.
	for _, dir := range []string{cfg.RunDir, cfg.StateDir} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
	}
	if err := writeDovecotConfig(d.ConfigFile, cfg); err != nil {
		return err
	}

	proc, err := startProcess(bin, []string{"-F", "-c", d.ConfigFile}, d.LogFile)
	if err != nil {
		return err
	}
	if err := waitDovecotReady(proc, filepath.Join(cfg.RunDir, "master.pid")); err != nil {
		proc.stop()
		return err
	}
	d.proc = proc
	d.IMAPAddr, d.IMAPSAddr, d.POP3Addr, d.POP3SAddr = addrs[0], addrs[1], addrs[2], addrs[3]
	return nil
}

// waitDovecotReady waits for the master to write its pid file, which it does
// only after binding every listener; a failed bind makes it exit instead.
func waitDovecotReady(proc *serverProcess, pidFile string) error {
	want := strconv.Itoa(proc.cmd.Process.Pid)
	deadline := time.After(startTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(pidFile); err == nil && strings.TrimSpace(string(data)) == want {
			return nil
		}
		select {
		case <-proc.exited:
			return fmt.Errorf("dovecot exited while starting: %v", proc.err)
		case <-deadline:
			return fmt.Errorf("dovecot did not write %s within %v", pidFile, startTimeout)
		case <-tick.C:
		}
	}
}

// LogTail returns the last lines of Dovecot's log, for failure messages.
func (d *Dovecot) LogTail() string {
	offset := fileSize(d.LogFile) - logTailBytes
	tail := readFileFrom(d.LogFile, offset)
	if offset > 0 {
		// Drop the line the offset cut in two.
		if _, rest, ok := strings.Cut(tail, "\n"); ok {
			tail = rest
		}
	}
	if tail == "" {
		return "(dovecot log is empty)"
	}
	return tail
}

// fileSize returns the size of path, or 0 if it cannot be read.
func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// readFileFrom returns path from offset on. It returns what it could read,
// as it only feeds diagnostics.
func readFileFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(max(offset, 0), io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(f)
	return string(data)
}
