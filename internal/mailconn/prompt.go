package mailconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// errNotTerminal means there is no terminal to ask the password on.
var errNotTerminal = errors.New("stdin is not a terminal")

// promptIn and promptOut are the terminal; tests replace promptIn with a
// pipe.
var (
	promptIn            = os.Stdin
	promptOut io.Writer = os.Stderr
)

// promptPassword asks for what's password on the terminal without echo.
func promptPassword(ctx context.Context, what string) (Secret, error) {
	fd := int(promptIn.Fd())
	if !term.IsTerminal(fd) {
		return "", errNotTerminal
	}
	// ReadPassword cannot be interrupted; on cancellation the terminal
	// must get its echo back here, or the user's shell stays blind after
	// Ctrl-C.
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	fmt.Fprintf(promptOut, "Password for %s: ", what)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(promptOut)
		if r.err != nil {
			return "", fmt.Errorf("reading password from terminal: %w", r.err)
		}
		if len(r.pw) == 0 {
			return "", errors.New("empty password typed")
		}
		return Secret(r.pw), nil
	case <-ctx.Done():
		term.Restore(fd, state)
		fmt.Fprintln(promptOut)
		return "", ctx.Err()
	}
}
