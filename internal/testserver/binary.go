package testserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// installHints names the Debian packages that .ci/run installs for each
// program tests may need, so a missing one is reported with its remedy.
var installHints = map[string]string{
	"dovecot": "dovecot-imapd dovecot-pop3d",
	"doveadm": "dovecot-imapd dovecot-pop3d",
	"mbsync":  "isync",
	"zstd":    "zstd",
}

// sbinDirs are searched after PATH because Debian installs dovecot in
// /usr/sbin, which is not on an ordinary user's PATH.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

// RequireBinary returns the path of the named program. If it is not
// installed the test is skipped, or fails when the environment variable CI is
// "true", so that CI never passes by skipping the real-server tests.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range sbinDirs {
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return path
		}
	}
	msg := name + " not installed"
	if pkgs, ok := installHints[name]; ok {
		msg += "; .ci/run installs " + pkgs
	}
	skipOrFail(t, msg)
	return ""
}

// skipOrFail skips the test because a server program is missing, except in CI
// where a missing program means the environment is broken.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
