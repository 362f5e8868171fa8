package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"
)

// errStopped is the cause given to the command's context when the user
// interrupts it (Ctrl-C, SIGTERM).
var errStopped = errors.New("interrupted")

// errInterrupted returns the error a command sees when it was interrupted:
// the context's cause if the user stopped it, else a value nothing matches.
func errInterrupted(c *cli.Context) error {
	if cause := context.Cause(c.Context); errors.Is(cause, errStopped) {
		return cause
	}
	return errNever
}

var errNever = errors.New("never")

// errorsIsInterrupted reports whether err is the user's interruption.
func errorsIsInterrupted(c *cli.Context, err error) bool {
	return err != nil && errors.Is(err, errInterrupted(c))
}
