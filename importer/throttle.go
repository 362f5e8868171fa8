package importer

import (
	"time"

	"github.com/mailferry/mailferry/internal/mailconn"
)

// Office 365 answers a client that goes too fast with "NO Request is
// throttled. Suggested Backoff Time: 5139 milliseconds" (see
// mailconn.ThrottleWait): the import waits that long, reports it, and
// sends again on a fresh connection.

// throttledFor counts an attempt's throttled answers and returns how long
// to wait, or 0 once the run has waited maxThrottleWait in all.
func (im *importer) throttledFor(te *throttledError) time.Duration {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.rep.ThrottleWait+te.wait > mailconn.MaxThrottleWait {
		return 0
	}
	im.rep.Throttled += te.answers
	im.rep.ThrottleWait += te.wait
	return te.wait
}

// throttledError ends an attempt whose answers asked to wait: the longest
// wait asked, and how many answers asked.
type throttledError struct {
	wait    time.Duration
	answers int
}

func (e *throttledError) Error() string {
	return "the server throttled the import (asked to wait " + e.wait.String() + ")"
}
