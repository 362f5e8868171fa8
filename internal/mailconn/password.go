package mailconn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// DefaultPasswordEnv is the environment variable PasswordSource reads when
// Env is empty.
const DefaultPasswordEnv = "MAILFERRY_PASSWORD"

// ErrNoPassword is matched (errors.Is) when none of a PasswordSource's ways
// produced a password.
var ErrNoPassword = errors.New("no password")

// maxPasswordFile bounds how much of a password file is read: a password
// is one line, and a wrong path to a huge file should not eat memory.
const maxPasswordFile = 64 << 10

// PasswordSource says where a password comes from, tried in this order: the
// first line of File, the environment variable Env, a no-echo prompt on the
// terminal. Passwords never come from the command line, where other users
// can read them in the process list.
type PasswordSource struct {
	File    string // read the first line of this file, if set
	Command string // else run this (sh -c) and take its first line, if set
	Env     string // environment variable; DefaultPasswordEnv if empty
	Prompt  bool   // ask on the terminal if stdin is one
}

func (p PasswordSource) env() string {
	if p.Env == "" {
		return DefaultPasswordEnv
	}
	return p.Env
}

// Get returns the password, where what names whose password it is for the
// prompt and for errors ("alice@mail.example.org"). Errors never contain the
// password.
func (p PasswordSource) Get(ctx context.Context, what string) (Secret, error) {
	if p.File != "" {
		return readPasswordFile(ctx, p.File)
	}
	if p.Command != "" {
		return runPasswordCommand(ctx, p.Command, what)
	}
	if pw := os.Getenv(p.env()); pw != "" {
		return Secret(pw), nil
	}
	ways := fmt.Sprintf("give --password-file FILE, set %s, or run on a terminal to be asked", p.env())
	if !p.Prompt {
		return "", fmt.Errorf("password for %s: %w; %s", what, ErrNoPassword, ways)
	}
	pw, err := promptPassword(ctx, what)
	if errors.Is(err, errNotTerminal) {
		return "", fmt.Errorf("password for %s: %w (stdin is not a terminal); %s", what, ErrNoPassword, ways)
	}
	if err != nil {
		return "", fmt.Errorf("password for %s: %w", what, err)
	}
	return pw, nil
}

// readPasswordFile returns the first line of path without its line end.
func readPasswordFile(ctx context.Context, path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		// Warn rather than refuse, unlike ssh: a file in a private
		// directory or a secret mounted by a container runtime is often
		// 0644 and still safe.
		slog.WarnContext(ctx, "password file is readable by group or others; chmod 600 it",
			"file", path, "mode", info.Mode().Perm().String())
	}
	line, err := bufio.NewReader(io.LimitReader(f, maxPasswordFile)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("password file %s: %w", path, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("password file %s: first line is empty", path)
	}
	return Secret(line), nil
}

// runPasswordCommand runs command (sh -c, one minute at most) and returns
// the first line it prints, as mbsync's PassCmd does. Its error output, not
// the password, goes into the error.
func runPasswordCommand(ctx context.Context, command, what string) (Secret, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return "", fmt.Errorf("password command for %s: %w: %s", what, err, msg)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("password command for %s: printed no password: %w", what, ErrNoPassword)
	}
	return Secret(line), nil
}
