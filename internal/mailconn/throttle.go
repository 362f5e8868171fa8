package mailconn

import (
	"context"
	"io"
	"math"

	"golang.org/x/time/rate"
)

// maxByteBurst caps a byte limiter's burst, which is also the largest
// chunk Reader reads at once: large enough to keep the waits few, small
// enough that a fast limit still flows smoothly.
const maxByteBurst = 64 << 10

// Throttle limits messages per second and bytes per second, shared by every
// goroutine and connection that uses it (rclone's --tpslimit and --bwlimit).
// A nil *Throttle, or a zero limit, does not limit.
type Throttle struct {
	msgs  *rate.Limiter // nil: unlimited
	bytes *rate.Limiter // nil: unlimited
}

// NewThrottle returns a Throttle allowing messagesPerSecond messages and
// bytesPerSecond bytes per second; 0 (or less) leaves that one unlimited.
func NewThrottle(messagesPerSecond float64, bytesPerSecond int64) *Throttle {
	t := &Throttle{}
	if messagesPerSecond > 0 {
		// Burst 1 spaces messages evenly: servers such as Office 365
		// count requests over short windows, so a burst at the start
		// would hit the limit that the average respects.
		t.msgs = rate.NewLimiter(rate.Limit(messagesPerSecond), 1)
	}
	if bytesPerSecond > 0 {
		// A tenth of a second's worth per chunk keeps the flow even.
		burst := int(min(max(bytesPerSecond/10, 1), maxByteBurst, math.MaxInt32))
		t.bytes = rate.NewLimiter(rate.Limit(bytesPerSecond), burst)
	}
	return t
}

// WaitMessage blocks until one more message may go, or ctx ends.
func (t *Throttle) WaitMessage(ctx context.Context) error {
	if t == nil || t.msgs == nil {
		return nil
	}
	return t.msgs.Wait(ctx)
}

// Reader returns r, throttled to the byte limit: each Read takes at most
// one burst and then waits for the bytes it got. Reads fail with ctx's
// error once ctx ends. Without a byte limit it returns r itself.
func (t *Throttle) Reader(ctx context.Context, r io.Reader) io.Reader {
	if t == nil || t.bytes == nil {
		return r
	}
	return &throttledReader{ctx: ctx, r: r, lim: t.bytes}
}

type throttledReader struct {
	ctx context.Context
	r   io.Reader
	lim *rate.Limiter
}

func (tr *throttledReader) Read(p []byte) (int, error) {
	if err := tr.ctx.Err(); err != nil {
		return 0, err
	}
	if burst := tr.lim.Burst(); len(p) > burst {
		p = p[:burst]
	}
	n, err := tr.r.Read(p)
	if n > 0 {
		// Waiting after the read, for what was actually read, charges
		// short reads fairly; the bytes are held back until paid for.
		if werr := tr.lim.WaitN(tr.ctx, n); werr != nil {
			return 0, werr
		}
	}
	return n, err
}
