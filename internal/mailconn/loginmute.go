package mailconn

import (
	"io"
	"sync/atomic"
)

// loginMute sits between imapclient and the caller's DebugWriter and drops
// the bytes of the login exchange, which carry the password (quoted in
// LOGIN, base64 in AUTHENTICATE PLAIN). imapclient writes to it from its
// reading and writing goroutines at once, so the switch is atomic.
type loginMute struct {
	w      io.Writer
	hidden atomic.Bool
}

func (m *loginMute) Write(p []byte) (int, error) {
	if m.hidden.Load() {
		return len(p), nil
	}
	return m.w.Write(p)
}

// hide starts dropping output and leaves a note in its place. It does
// nothing on a nil loginMute (no DebugWriter).
func (m *loginMute) hide() {
	if m == nil {
		return
	}
	io.WriteString(m.w, "[mailconn: login exchange not shown]\r\n")
	m.hidden.Store(true)
}

// show resumes output.
func (m *loginMute) show() {
	if m == nil {
		return
	}
	m.hidden.Store(false)
}
