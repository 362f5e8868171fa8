package testserver

import (
	"bytes"
	"os/exec"
	"testing"
)

// Doveadm runs `doveadm -c CONFIG args...` against this Dovecot and returns
// its standard output, failing the test if doveadm fails. Examples:
//
//	d.Doveadm(t, "mailbox", "status", "-u", "alice", "messages uidvalidity", "INBOX")
//	d.Doveadm(t, "fetch", "-u", "alice", "flags", "mailbox", "Sent")
func (d *Dovecot) Doveadm(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(d.doveadm, append([]string{"-c", d.ConfigFile}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testserver: doveadm %q: %v\n%s\nlog tail:\n%s", args, err, stderr.String(), d.LogTail())
	}
	return stdout.String()
}
