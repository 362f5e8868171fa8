package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportRefusesFlags: a flag that means nothing to the source is
// refused with exit status 2, naming the flag and the source, before
// anything is read or written.
func TestExportRefusesFlags(t *testing.T) {
	for _, tc := range []struct {
		from string
		flag []string
		want string
	}{
		{"imap://alice@127.0.0.1:1", []string{"--delete-after-export"}, "--delete-after-export does not apply to IMAP sources"},
		{"maildir:../../testdata/maildir", []string{"--delete-after-export"}, "--delete-after-export does not apply to Maildir sources"},
		{"mbox:../../testdata/mbox", []string{"--connections", "2"}, "--connections does not apply to mbox sources"},
		{"pop3://bob@127.0.0.1:1", []string{"--connections", "8"}, "--connections does not apply to POP3 sources"},
		{"maildir:../../testdata/maildir", []string{"--tls-ca", "ca.pem"}, "--tls-ca does not apply to Maildir sources"},
		{"mbox:../../testdata/mbox", []string{"--password-file", "pw"}, "--password-file does not apply to mbox sources"},
		{"ftp://x@host", nil, `--from "ftp://x@host": want`},
	} {
		t.Run(strings.Join(append([]string{tc.from}, tc.flag...), " "), func(t *testing.T) {
			arch := filepath.Join(t.TempDir(), "archive")
			out, err := runCLIErr(append([]string{"export", "--from", tc.from, "--archive", arch}, tc.flag...)...)
			if code := exitCodeOf(err); code != exitStatusUsage || !strings.Contains(err.Error()+out, tc.want) {
				t.Errorf("exit status %d, error %v; want %d and %q", code, err, exitStatusUsage, tc.want)
			}
			if _, err := os.Stat(arch); err == nil {
				t.Error("a refused export created the archive")
			}
		})
	}
}
