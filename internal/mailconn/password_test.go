package mailconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noTerminal makes the prompt read from a pipe, which is not a terminal,
// whatever the test runner's stdin is.
func noTerminal(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := promptIn
	promptIn = r
	t.Cleanup(func() {
		promptIn = old
		r.Close()
		w.Close()
	})
}

// captureLog sends the default slog logger to a buffer for the test.
func captureLog(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func writeFile(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	return path
}

func TestPasswordSource(t *testing.T) {
	const envName = "MAILFERRY_TEST_PASSWORD"
	tests := []struct {
		name     string
		file     string // content; "" for no file
		command  string // a password command; "" for none
		perm     os.FileMode
		env      string // value of envName; "" leaves it empty
		prompt   bool
		want     string
		wantErr  string // substring
		wantWarn bool
	}{
		{name: "file", file: "hunter2\n", perm: 0o600, want: "hunter2"},
		{name: "file CRLF", file: "hunter2\r\n", perm: 0o600, want: "hunter2"},
		{name: "file without newline", file: "hunter2", perm: 0o600, want: "hunter2"},
		{name: "file first line only", file: "hunter2\nsecond line\n", perm: 0o600, want: "hunter2"},
		{name: "file keeps spaces", file: " pass word \n", perm: 0o600, want: " pass word "},
		{name: "file wins over env", file: "fromfile\n", perm: 0o600, env: "fromenv", want: "fromfile"},
		{name: "file readable by others warns", file: "hunter2\n", perm: 0o644, want: "hunter2", wantWarn: true},
		{name: "empty file", file: "\n", perm: 0o600, wantErr: "first line is empty"},
		{name: "command", command: "printf ' pass word \\nsecond\\n'", want: " pass word "},
		{name: "command wins over env", command: "echo fromcmd", env: "fromenv", want: "fromcmd"},
		{name: "command fails", command: "echo 'vault sealed' >&2; exit 1", wantErr: "vault sealed"},
		{name: "command prints nothing", command: "true", wantErr: "printed no password"},
		{name: "env", env: "fromenv", want: "fromenv"},
		{name: "none", wantErr: "--password-file FILE, set " + envName + ", or run on a terminal"},
		{name: "prompt without terminal", prompt: true, wantErr: "stdin is not a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noTerminal(t)
			log := captureLog(t)
			t.Setenv(envName, tt.env)
			src := PasswordSource{Env: envName, Prompt: tt.prompt, Command: tt.command}
			if tt.file != "" {
				src.File = writeFile(t, tt.file, tt.perm)
			}
			got, err := src.Get(context.Background(), "alice@example.org")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Get() error = %v, want one containing %q", err, tt.wantErr)
				}
				if tt.file == "" && tt.command == "" && !errors.Is(err, ErrNoPassword) {
					t.Errorf("error %v is not ErrNoPassword", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get(): %v", err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("Get() = %q, want %q", got.Reveal(), tt.want)
			}
			warned := strings.Contains(log.String(), "readable by group or others")
			if warned != tt.wantWarn {
				t.Errorf("warning logged = %v, want %v; log: %s", warned, tt.wantWarn, log)
			}
			if strings.Contains(log.String(), tt.want) {
				t.Errorf("log contains the password: %s", log)
			}
		})
	}
}

func TestPasswordSourceDefaultEnv(t *testing.T) {
	noTerminal(t)
	t.Setenv(DefaultPasswordEnv, "fromdefault")
	got, err := PasswordSource{}.Get(context.Background(), "alice@example.org")
	if err != nil || got.Reveal() != "fromdefault" {
		t.Errorf("Get() = %q, %v; want fromdefault", got.Reveal(), err)
	}
	t.Setenv(DefaultPasswordEnv, "")
	_, err = PasswordSource{}.Get(context.Background(), "alice@example.org")
	if err == nil || !strings.Contains(err.Error(), DefaultPasswordEnv) {
		t.Errorf("Get() error = %v, want one naming %s", err, DefaultPasswordEnv)
	}
}

func TestPasswordFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent")
	_, err := PasswordSource{File: path}.Get(context.Background(), "alice")
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Get() error = %v, want a not-exist error naming %s", err, path)
	}
}

func TestSecretDoesNotPrint(t *testing.T) {
	s := Secret("hunter2")
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "password", s)
	js, err := json.Marshal(struct{ P Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s),
		"%q":   fmt.Sprintf("%q", s),
		"%x":   fmt.Sprintf("%x", s),
		"%#v":  fmt.Sprintf("%#v", s),
		"%+v":  fmt.Sprintf("%+v", struct{ P Secret }{s}),
		"slog": logBuf.String(),
		"json": string(js),
	}
	for how, out := range outputs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) || !strings.Contains(out, "***") {
			t.Errorf("%s printed %q", how, out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}
