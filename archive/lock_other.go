//go:build !unix

package archive

// processAlive cannot tell here: a lock of this host goes stale by its age only.
func processAlive(pid int) bool { return true }
