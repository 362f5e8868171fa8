package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Source gives an access token; it is asked at every connection and
// reconnection, so a token that expired during a long run is replaced.
type Source interface {
	Token(ctx context.Context) (string, error)
}

// ErrNoToken means a source gave nothing that looks like a token.
var ErrNoToken = errors.New("no access token")

// maxTokenBytes bounds what is read from a token file or command: access
// tokens are a few kilobytes at most.
const maxTokenBytes = 64 << 10

// FileSource reads the token from a file at every connection: its first
// line, or the access_token field of a JSON object (as written by most
// token helpers).
type FileSource struct{ Path string }

func (s FileSource) Token(context.Context) (string, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return "", fmt.Errorf("oauth2 token file: %w", err)
	}
	defer f.Close()
	b, err := readCapped(f)
	if err != nil {
		return "", fmt.Errorf("oauth2 token file %s: %w", s.Path, err)
	}
	tok, err := parseToken(b)
	if err != nil {
		return "", fmt.Errorf("oauth2 token file %s: %w", s.Path, err)
	}
	return tok, nil
}

// CommandSource runs a command (through sh -c) at every connection and
// takes the token from its standard output, as FileSource reads a file:
// mbsync's PassCmd habit.
type CommandSource struct {
	Command string
	// Timeout bounds the command (default 1 minute).
	Timeout time.Duration
}

func (s CommandSource) Token(ctx context.Context) (string, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.Command)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limitedWriter{&out, maxTokenBytes}, &limitedWriter{&errOut, 4 << 10}
	if err := cmd.Run(); err != nil {
		// The command's own words help; they are its stderr, not the
		// token, which goes to stdout.
		return "", fmt.Errorf("oauth2 token command: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	tok, err := parseToken(out.Bytes())
	if err != nil {
		return "", fmt.Errorf("oauth2 token command: %w", err)
	}
	return tok, nil
}

// parseToken takes a token from a JSON object's access_token, or else the
// first line.
func parseToken(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if bytes.HasPrefix(b, []byte("{")) {
		var v struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "", fmt.Errorf("JSON without a readable access_token: %w", err)
		}
		b = []byte(v.AccessToken)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	tok := strings.TrimSpace(string(line))
	if tok == "" || strings.ContainsAny(tok, " \t\x00\x01") {
		return "", ErrNoToken
	}
	return tok, nil
}

// readCapped reads r whole, refusing more than maxTokenBytes.
func readCapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTokenBytes+1))
	if err == nil && len(b) > maxTokenBytes {
		err = fmt.Errorf("more than %d bytes: not a token", maxTokenBytes)
	}
	return b, err
}

type limitedWriter struct {
	b *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
