package importer

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportObeysThrottling: answers asking the import to back off are
// waited out and the messages sent again; none is failed or duplicated.
func TestImportObeysThrottling(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	seed(t, src, "alice", 40)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	proxy := testserver.StartThrottleProxy(t, dst.IMAPAddr, "APPEND", 2, 300)
	start := time.Now()
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "m.jsonl"), func(o *IMAPOptions) {
		o.DialAppender = appenderFor(t, dst, proxy.Addr, "bob", "b-pw")
	})
	want := mailbox(t, src, "alice", same)
	if !rep.Complete() || rep.Appended != len(want) || rep.Throttled != 2 || rep.ThrottleWait < 300*time.Millisecond {
		t.Errorf("throttled import: appended %d of %d, throttled %d for %v, failed %v", rep.Appended, len(want), rep.Throttled, rep.ThrottleWait, rep.Failed)
	}
	if took := time.Since(start); took < rep.ThrottleWait {
		t.Errorf("the import took %v: it did not wait the %v it reports", took, rep.ThrottleWait)
	}
	if got := mailbox(t, dst, "bob", same); !slices.Equal(got, want) {
		t.Errorf("destination has %d messages, want the source's %d identical", len(got), len(want))
	}
}
