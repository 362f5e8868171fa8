//go:build !linux

package testserver

import (
	"os/exec"
	"syscall"
)

// serverProcAttr asks for nothing outside Linux; a crashed test binary may
// leave its server running there.
func serverProcAttr() *syscall.SysProcAttr {
	return nil
}

// killServer kills the server's main process; its children notice and exit
// on their own.
func killServer(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
