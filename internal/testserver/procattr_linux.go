package testserver

import (
	"os/exec"
	"syscall"
)

// serverProcAttr puts the server in a process group of its own, so that
// killServer reaches the processes it forks, and makes the kernel stop it
// when the test binary dies without running its cleanups (a panic, or go
// test's -timeout). Pdeathsig follows the thread that started the child; Go
// only retires threads of goroutines that exit while locked to them, which
// test code does not do.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killServer kills the server's whole process group at once. Dovecot's own
// SIGTERM shutdown waits about a second for its children, which adds up over
// hundreds of tests, and a test server has nothing worth shutting down
// gracefully.
func killServer(cmd *exec.Cmd) error {
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
