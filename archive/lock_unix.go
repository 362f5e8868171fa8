//go:build unix

package archive

import (
	"errors"
	"os"
	"syscall"
)

// processAlive reports whether a process of this host is running.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
