package importer

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/mailferry/mailferry/internal/mailconn"
)

// Office 365 answers a client that goes too fast with "NO Request is
// throttled. Suggested Backoff Time: 5139 milliseconds": not a refusal of
// the message, a request to wait. The import waits that long (bounded by
// maxThrottlePause), reports it, and sends again on a fresh connection.
var throttleAnswer = regexp.MustCompile(`(?i)request is throttled.*?suggested backoff time:\s*(\d+)\s*milliseconds`)

const (
	maxThrottlePause = 5 * time.Minute  // one wait
	maxThrottleWait  = 60 * time.Minute // all the waits of a run
)

// throttled returns the backoff a throttled answer asks for (at least
// 100 ms), or 0 when the answer is something else.
func throttled(ce *mailconn.CommandError) time.Duration {
	m := throttleAnswer.FindStringSubmatch(ce.Text)
	if m == nil {
		return 0
	}
	ms, _ := strconv.Atoi(m[1])
	return min(max(time.Duration(ms)*time.Millisecond, 100*time.Millisecond), maxThrottlePause)
}

// throttledFor counts an attempt's throttled answers and returns how long
// to wait, or 0 once the run has waited maxThrottleWait in all.
func (im *importer) throttledFor(te *throttledError) time.Duration {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.rep.ThrottleWait+te.wait > maxThrottleWait {
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

// sleep waits d, or less if ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
