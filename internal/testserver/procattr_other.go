//go:build !linux

package testserver

import "syscall"

// serverProcAttr has no parent-death signal to ask for outside Linux; a
// crashed test binary may leave its server running there.
func serverProcAttr() *syscall.SysProcAttr {
	return nil
}
