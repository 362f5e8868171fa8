package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

// errStopped is the cause given to the command's context when the user
// interrupts it (Ctrl-C, SIGTERM).
var errStopped = errors.New("interrupted")

// exitStatus turns the outcome of a command that may be resumed into its
// exit status: 130 when the user interrupted it (resume says what is kept
// and how to go on), the error itself, 3 when failed of its items (what)
// failed, else success.
func exitStatus(err error, resume, command string, failed int, what string) error {
	switch {
	case errors.Is(err, errStopped):
		return cli.Exit("interrupted: "+resume, 130)
	case err != nil:
		return err
	case failed > 0:
		return cli.Exit(fmt.Sprintf("%s incomplete: %d %s failed", command, failed, what), 3)
	}
	return nil
}
