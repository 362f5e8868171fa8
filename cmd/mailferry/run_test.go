package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestCommandLine: the exit status and what is printed where for the
// mistakes people make, and for help and version.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		status   int
		contains string // in the error or the output
	}{
		{[]string{"exprot"}, 2, `unknown command "exprot" (did you mean "export"?)`},
		{[]string{"archive", "lss"}, 2, `did you mean "ls"?`},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate";`},
		{[]string{"import", "--max-sise", "1"}, 2, "unknown flag --max-sise (did you mean --max-size?)"},
		{[]string{"export", "--bogus"}, 2, "unknown flag --bogus"},
		{[]string{"archive", "forget", "--keep-lats", "1", "x"}, 2, "unknown flag --keep-lats (did you mean --keep-last?)"},
		{[]string{"--verbos", "export"}, 2, "unknown flag --verbos (did you mean --verbose?)"},
		{[]string{"verify", "--archive", "x"}, 2, `--to URL names the destination`},
		{[]string{"import", "--archive", "x"}, 2, `--to URL names the destination`},
		// imapsync's names are taken: the run gets past the flags and
		// fails on the archive that is not there.
		{[]string{"import", "--archive", "/nonexistent", "--to", "imap://a@127.0.0.1:1", "--maxsize", "1M", "--maxlinelength", "9900",
			"--regextrans2", `s/^INBOX\.//`, "--disarmreadreceipts", "--subfolder2", "Old", "--dry"}, 1, "not a mailferry archive"},
		{[]string{"help"}, 0, "COMMANDS"},
		{[]string{"help", "import"}, 0, "--max-size"},
		{[]string{"--version"}, 0, "archive format"},
		{[]string{"version"}, 0, "archive format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := runCLIStreams(tc.args...)
			if got := exitCodeOf(err); got != tc.status {
				t.Errorf("exit %d, want %d (%v)", got, tc.status, err)
			}
			// A usage error is one line on stderr (main prints err there)
			// and nothing on stdout.
			if tc.status == 2 && (out != "" || errOut != "" || strings.Contains(strings.TrimSpace(err.Error()), "\n")) {
				t.Errorf("usage error printed stdout %q, stderr %q, error %q", out, errOut, err)
			}
			text := out + errOut
			if err != nil {
				text += err.Error()
			}
			if !strings.Contains(text, tc.contains) {
				t.Errorf("%q not in %q", tc.contains, text)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"export", "export", 0}, {"exprot", "export", 1}, {"imprt", "import", 1}, {"verfiy", "verify", 1}, {"abc", "xyz", 3}, {"", "ls", 2}} {
		if d := editDistance(tc.a, tc.b); d != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}

// TestLogFile: --log-file keeps the run's log as JSON lines, debug level
// included, in a private file.
func TestLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.log")
	// A failing export logs its failure; the Maildir is not there.
	runCLIErr("--log-file", path, "--verbose", "export", "--from", "maildir:"+filepath.Join(t.TempDir(), "none"), "--archive", t.TempDir())
	runCLI(t, "--log-file", path, "archive", "--help")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v %v", st, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"msg":"mailferry started"`) || strings.Count(string(b), "\n") < 2 {
		t.Errorf("log file holds:\n%s", b)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("not a JSON line: %q", line)
		}
	}
}

// TestExitCodeOf: every command's error maps to the documented statuses;
// an interruption is 130 whichever command it stopped.
func TestExitCodeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{fmt.Errorf("prune: %w", errStopped), 130},
		{cli.Exit("usage", exitStatusUsage), 2},
		{cli.Exit("incomplete", 3), 3},
	} {
		if got := exitCodeOf(tc.err); got != tc.want {
			t.Errorf("exitCodeOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
