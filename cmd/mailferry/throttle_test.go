package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
)

// TestExportObeysThrottling exports through a proxy that answers the first
// FETCH commands as Office 365 does when a client goes too fast: the
// export waits as asked and completes with every message, failing none.
func TestExportObeysThrottling(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}}})
	seedMailbox(t, d, "ann", 40)
	proxy := testserver.StartThrottleProxy(t, d.IMAPAddr, "FETCH", 2, 400)
	arch := t.TempDir()
	start := time.Now()
	out, err := runCLIErr("export", "--from", "imap://ann@"+proxy.Addr, "--archive", arch, "--password-file", writeSecret(t, "ann-pw"), "--connections", "1")
	if err != nil {
		t.Fatalf("export through a throttling server: %v\n%s", err, out)
	}
	if proxy.Left() != 0 {
		t.Fatalf("the proxy throttled %d FETCH commands, want 2", 2-proxy.Left())
	}
	if took := time.Since(start); took < 800*time.Millisecond {
		t.Errorf("export took %v: it did not wait the 2 × 400 ms asked", took)
	}
	if n := len(archiveSums(t, arch, "ann@127.0.0.1")); n != 40 || !strings.Contains(out, "40 messages") {
		t.Errorf("archive holds %d messages, want 40\n%s", n, out)
	}
}
