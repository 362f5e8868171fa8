package testserver

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// safeDirPattern matches paths Dovecot's config parser takes literally:
// it gives meaning to spaces, quotes, '#', '$' and '%'.
var safeDirPattern = regexp.MustCompile(`^[A-Za-z0-9/._+-]+$`)

// maxServerDirLen leaves room below the directory for Dovecot's deepest unix
// socket (run/token-login/imap-urlauth) within the 107 bytes of sun_path.
const maxServerDirLen = 64

// serverDir creates a private directory for one server and removes it when
// the test ends. It is not t.TempDir because that path embeds the test name:
// long subtest names overflow sun_path for Dovecot's sockets, and names may
// contain characters Dovecot's config parser interprets.
func serverDir(t testing.TB, needTraverse bool) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mailferry-dovecot-")
	if err != nil {
		t.Fatalf("testserver: create server directory: %v", err)
	}
	t.Cleanup(func() {
		// A killed server's processes can finish a system call they were
		// in after the kill; give a last file creation time to land
		// rather than fail the test over it.
		err := os.RemoveAll(dir)
		for retry := 0; err != nil && retry < 3; retry++ {
			time.Sleep(50 * time.Millisecond)
			err = os.RemoveAll(dir)
		}
		if err != nil {
			t.Errorf("testserver: remove server directory: %v", err)
		}
	})
	if len(dir) > maxServerDirLen || !safeDirPattern.MatchString(dir) {
		t.Fatalf("testserver: temp directory %q is too long or has characters Dovecot's config treats specially; set TMPDIR to something like /tmp", dir)
	}
	// MkdirTemp creates 0700, but Dovecot's unprivileged processes must
	// reach their sockets and the users' homes below it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testserver: %v", err)
	}
	if needTraverse {
		if err := checkTraversable(filepath.Dir(dir)); err != nil {
			t.Fatalf("testserver: %v; set TMPDIR to a directory every user can enter, such as /tmp", err)
		}
	}
	return dir
}

// checkTraversable reports the first directory from dir up to / that other
// users cannot enter.
func checkTraversable(dir string) error {
	for {
		info, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("directory %s is not searchable by Dovecot's unprivileged users", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}
