package testserver

import "syscall"

// serverProcAttr makes the kernel stop a server when the test binary dies
// without running its cleanups (a panic, or go test's -timeout), so no
// Dovecot outlives its test. Pdeathsig follows the thread that started the
// child; Go only retires threads of goroutines that exit while locked to
// them, which test code does not do.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
