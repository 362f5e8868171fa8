package mailconn

import (
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Office 365 answers a client that goes too fast with "NO Request is
// throttled. Suggested Backoff Time: 5139 milliseconds": not a refusal, a
// request to wait that long and come back, which is what callers do.
var throttleAnswer = regexp.MustCompile(`(?i)request is throttled.*?suggested backoff time:\s*(\d+)\s*milliseconds`)

// Bounds of obeying throttled answers: one wait, and all of a run's.
const (
	MaxThrottlePause = 5 * time.Minute
	MaxThrottleWait  = 60 * time.Minute
)

// ThrottleWait returns how long a throttled answer (go-imap's or the
// Appender's) asks to wait, at least 100 ms and at most MaxThrottlePause,
// or 0 when err is no such answer.
func ThrottleWait(err error) time.Duration {
	var text string
	var ie *imap.Error
	var ce *CommandError
	switch {
	case errors.As(err, &ie):
		text = ie.Text
	case errors.As(err, &ce):
		text = ce.Text
	default:
		return 0
	}
	m := throttleAnswer.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	ms, _ := strconv.Atoi(m[1])
	return min(max(time.Duration(ms)*time.Millisecond, 100*time.Millisecond), MaxThrottlePause)
}
