package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCompletionAndMan: the shell scripts parse and ask mailferry for the
// words that come next, which it gives from its command definitions; the
// man page lists the commands.
func TestCompletionAndMan(t *testing.T) {
	// As a process: urfave/cli reads the words from os.Args.
	ask := func(args ...string) string {
		out, err := mailferryProcess(nil, append(args, "--generate-bash-completion")...).Output()
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return string(out)
	}
	if next := ask(); !strings.Contains(next, "import") || !strings.Contains(next, "verify") {
		t.Errorf("next words after mailferry: %q", next)
	}
	if next := ask("import", "--max"); !strings.Contains(next, "--max-size") || !strings.Contains(next, "--max-bytes-per-day") {
		t.Errorf("flags of import starting --max: %q", next)
	}
	for _, shell := range []string{"bash", "zsh"} {
		script := runCLI(t, "completion", shell)
		if !strings.Contains(script, "--generate-bash-completion") {
			t.Errorf("%s script does not ask mailferry: %s", shell, script)
		}
		if path, err := exec.LookPath(shell); err == nil {
			cmd := exec.Command(path, "-n")
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s -n on the script: %v\n%s", shell, err, out)
			}
		}
	}
	if fish := runCLI(t, "completion", "fish"); !strings.Contains(fish, "complete -c mailferry") || !strings.Contains(fish, "max-size") {
		t.Errorf("fish completion: %.300s", fish)
	}
	if man := runCLI(t, "man"); !strings.Contains(man, ".SH NAME") || !strings.Contains(man, "import") {
		t.Errorf("man page: %.300s", man)
	}
	if _, err := runCLIErr("completion", "tcsh"); exitCodeOf(err) != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", exitCodeOf(err))
	}
}
