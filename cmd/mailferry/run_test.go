package main

import (
	"strings"
	"testing"
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
		{[]string{"import", "--maxsize", "1"}, 2, "flag provided but not defined: -maxsize"},
		{[]string{"verify", "--archive", "x"}, 2, `Required flag "to" not set`},
		{[]string{"help"}, 0, "COMMANDS"},
		{[]string{"help", "import"}, 0, "--max-size"},
		{[]string{"--version"}, 0, "archive format"},
		{[]string{"version"}, 0, "archive format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := runCLIErr(tc.args...)
			if got := exitCodeOf(err); got != tc.status {
				t.Errorf("exit %d, want %d (%v)", got, tc.status, err)
			}
			text := out
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
