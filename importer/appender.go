package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// worker is one connection's share of an import: a go-imap session for
// what is read and settled, and the Appender that sends, dialled when
// first needed.
type worker struct {
	im      *importer
	s       *mailconn.Session
	dial    func(context.Context) (*mailconn.Appender, error)
	ap      *mailconn.Appender
	backoff mailconn.Backoff
}

func (w *worker) close() {
	w.dropAppender()
	w.s.Close()
}

func (w *worker) dropAppender() {
	if w.ap != nil {
		w.ap.Close()
		w.ap = nil
	}
}

// appendBatch lands a batch of messages exactly once: their intents are
// written together, so that one fsync covers them, then they are sent.
func (w *worker) appendBatch(ctx context.Context, batch []appendJob) error {
	im := w.im
	var ready []prepared
	stop, err := onSession(ctx, w.s, func(c *imapclient.Client) error {
		var err error
		ready, err = im.prepareAll(c, batch)
		return err
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		for _, j := range batch {
			im.fail(j, err.Error())
		}
		return nil
	}
	return w.send(ctx, ready)
}

// send sends the APPENDs of messages whose intents are on disk, all at
// once, then reads the answers in order. After a dropped connection, what
// has no outcome is prepared again (settled on the session, new intents)
// and sent again. Only manifest failures and cancellation are errors.
func (w *worker) send(ctx context.Context, todo []prepared) error {
	im := w.im
	refused := map[string]bool{}
	var lastErr error
	var silences mailconn.SilenceBudget // each silence costs the whole --timeout
	var pause time.Duration             // a throttled server's backoff, instead of ours
	for attempt := 0; attempt <= im.opts.Retries; attempt++ {
		if attempt > 0 || pause > 0 {
			w.dropAppender()
			if pause > 0 {
				if err := mailconn.Sleep(ctx, pause); err != nil {
					return context.Cause(ctx)
				}
			} else if err := w.backoff.Wait(ctx); err != nil {
				return context.Cause(ctx)
			}
			pause = 0
			again, err := w.reprepare(ctx, todo, refused)
			if err != nil {
				return err
			}
			todo = again
		}
		if len(todo) == 0 {
			return nil
		}
		if w.ap == nil {
			ap, err := w.dial(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				lastErr = err
				if mailconn.IsConnectionError(err) && !silences.Exhausted(err) {
					continue
				}
				break
			}
			w.ap = ap
		}
		done, err := w.streamOnce(ctx, todo, refused, true)
		if err != nil {
			var es *errStop
			if errors.As(err, &es) {
				return es.err
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			var te *throttledError
			if errors.As(err, &te) {
				// Obeyed, not counted against the retries, within a
				// bound on the whole wait.
				if pause = im.throttledFor(te); pause == 0 {
					lastErr = fmt.Errorf("the server kept throttling for more than %v", mailconn.MaxThrottleWait)
					break
				}
				attempt--
				continue
			}
			lastErr = err
			if silences.Exhausted(err) {
				break
			}
			if done {
				w.backoff.Reset()
			}
			continue
		}
		w.backoff.Reset()
		return nil
	}
	im.failPending(todo, refused, fmt.Sprintf("gave up after %d reconnects: %v", im.opts.Retries, lastErr))
	return nil
}

// Bounds of one MULTIAPPEND: the server commits its messages together, so
// a refusal or a cut connection costs them all (they are then sent again).
const (
	maxGroupMessages = 64
	maxGroupBytes    = 16 << 20
)

// streamOnce sends todo over the Appender and records the answers, which a
// second goroutine reads while messages are still being sent, so the
// server never waits for the sender nor the sender for the server. Where
// the server has MULTIAPPEND (and multi is set), consecutive messages for
// one folder go in one APPEND; when such an APPEND is refused, none of its
// messages landed and each is sent again on its own, so that the refusal
// is pinned on the message that caused it. done reports that at least one
// message landed. A connection error leaves the rest pending; so does a
// message the archive fails to give back in the middle of its literal
// (which is then failed, and the connection dropped: a literal cannot be
// taken back).
func (w *worker) streamOnce(ctx context.Context, todo []prepared, refused map[string]bool, multi bool) (bool, error) {
	im, ap := w.im, w.ap
	type answer struct {
		group []prepared
		res   mailconn.AppendResult
		err   error
	}
	multi = multi && ap.MultiAppend()
	sentCh := make(chan []prepared, len(todo))
	answers := make(chan answer, len(todo))
	go func() {
		defer close(answers)
		broken := false
		for g := range sentCh {
			if broken {
				continue // no answer can come; the sender finds out too
			}
			res, err := ap.Result()
			var ce *mailconn.CommandError
			broken = err != nil && !errors.As(err, &ce)
			answers <- answer{g, res, err}
		}
	}()
	var sendErr error
	for i := 0; i < len(todo) && sendErr == nil; {
		n, bytes := 1, todo[i].entry.Size
		for multi && i+n < len(todo) && n < maxGroupMessages && todo[i+n].f == todo[i].f && bytes+todo[i+n].entry.Size <= maxGroupBytes {
			bytes += todo[i+n].entry.Size
			n++
		}
		group := todo[i : i+n]
		i += n
		ap.Select(group[0].f.name)
		ap.BeginAppend(group[0].f.name)
		for _, p := range group {
			if sendErr = im.opts.Throttle.WaitMessage(ctx); sendErr != nil {
				break
			}
			res, err := im.body(p)
			if err != nil {
				// Nothing of this message is written yet, but the APPEND
				// is open: the connection goes, this message fails, the
				// rest are sent again.
				refused[p.job.key] = true
				im.damaged(p.job, err)
				sendErr = errDropped
				break
			}
			src := &sourceReader{r: res.Body}
			err = ap.AppendMessage(res.Flags, p.job.msg.InternalDate, p.entry.Binary, res.Size, im.opts.Throttle.Reader(ctx, src))
			res.Body.Close()
			if errors.Is(err, mailconn.ErrLiteralRefused) {
				break // the APPEND is over; its NO comes from Result
			}
			if err != nil {
				if src.err != nil {
					refused[p.job.key] = true
					im.damaged(p.job, src.err)
					err = errDropped
				}
				sendErr = err
				break
			}
		}
		if sendErr == nil {
			sendErr = ap.EndAppend()
		}
		if sendErr == nil {
			sendErr = ap.Flush()
		}
		if sendErr == nil {
			sentCh <- group
		}
	}
	close(sentCh)
	landed := false
	var later []storeLater
	var alone []prepared // of refused MULTIAPPENDs, to send one by one
	var readErr error
	var wait time.Duration // the longest backoff a throttled answer asked for
	var throttles int
	for a := range answers {
		var ce *mailconn.CommandError
		switch {
		case errors.As(a.err, &ce) && mailconn.ThrottleWait(ce) > 0:
			// Not refused: asked to come back later. What it held did
			// not land; the next attempt settles and sends it again.
			wait = max(wait, mailconn.ThrottleWait(ce))
			throttles++
		case errors.As(a.err, &ce) && len(a.group) > 1:
			alone = append(alone, a.group...)
		case errors.As(a.err, &ce):
			if err := im.refusedBy(a.group[0], refused, a.err); err != nil && readErr == nil {
				readErr = &errStop{err}
			}
		case a.err != nil:
			if readErr == nil {
				readErr = a.err
			}
		default:
			uids := a.res.UIDs
			if len(uids) != len(a.group) {
				uids = make([]uint32, len(a.group)) // no UIDPLUS, or an answer that does not add up
			}
			for k, p := range a.group {
				if err := im.landedAs(p, uids[k], a.res.UIDValidity, &later); err != nil && readErr == nil {
					readErr = &errStop{err}
				}
				landed = true
			}
		}
	}
	if len(later) > 0 {
		if err := w.s.Do(ctx, func(c *imapclient.Client) error { return storeFlagsAfter(c, later) }); err != nil {
			for _, l := range later {
				im.failStore(l, err)
			}
		}
	}
	if readErr != nil {
		return landed, readErr
	}
	if wait > 0 {
		return landed, &throttledError{wait: wait, answers: throttles}
	}
	if sendErr != nil {
		return landed, sendErr
	}
	if len(alone) > 0 {
		done, err := w.streamOnce(ctx, alone, refused, false)
		return landed || done, err
	}
	return landed, nil
}

// errDropped ends a connection on purpose (an APPEND that cannot be
// finished); what had no answer is sent again on a new one.
var errDropped = errors.New("connection dropped: a message's literal could not be completed")

// sourceReader remembers a failure of the message's own bytes (the
// archive's), to tell it from the connection's.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// reprepare settles what is left of todo after a dropped connection and
// writes new intents for what did not land.
func (w *worker) reprepare(ctx context.Context, todo []prepared, refused map[string]bool) ([]prepared, error) {
	im := w.im
	var again []prepared
	stop, err := onSession(ctx, w.s, func(c *imapclient.Client) error {
		if err := im.settleBatch(c, todo, refused); err != nil {
			return err
		}
		var jobs []appendJob
		for _, p := range todo {
			if !refused[p.job.key] {
				jobs = append(jobs, p.job)
			}
		}
		var err error
		again, err = im.prepareAll(c, jobs)
		return err
	})
	if stop != nil {
		return nil, stop
	}
	return again, err
}

// landedAs records that p landed as uid (0 when the server does not say)
// and queues the flags that must follow the APPEND onto later. Its only
// error is the manifest's.
func (im *importer) landedAs(p prepared, uid, uidValidity uint32, later *[]storeLater) error {
	if err := im.opts.Manifest.Appended(p.job.key, p.f.name, uid, uidValidity, p.entry.Size); err != nil {
		return err
	}
	if uid != 0 {
		im.landed(p.f, uid)
		if len(p.storeAfter) > 0 {
			*later = append(*later, storeLater{job: p.job, folder: p.f.name, uid: uid, flags: p.storeAfter})
		}
	}
	im.counted(p.f, p.job.key, p.entry.Size)
	return nil
}

// counted counts a message that landed in this run: appended, or restored
// where the manifest had it but the destination had lost it.
func (im *importer) counted(f *destFolder, key string, size int64) {
	im.mu.Lock()
	if why := f.stale[key]; why != "" {
		delete(f.stale, key)
		im.rep.Restored++
		if im.rep.RestoredWhy == nil {
			im.rep.RestoredWhy = map[string]int{}
		}
		im.rep.RestoredWhy[why]++
	} else {
		im.rep.Appended++
	}
	im.rep.Bytes += size
	im.mu.Unlock()
	im.opts.Progress.Message(f.name, size, true)
}

// refusedBy records that the server refused p, which therefore did not
// land, and reports it. Its only error is the manifest's.
func (im *importer) refusedBy(p prepared, refused map[string]bool, err error) error {
	refused[p.job.key] = true
	im.fail(p.job, fmt.Sprintf("the server refused the APPEND to %q: %v", p.f.name, err))
	return im.opts.Manifest.Abandon(p.job.key, p.f.name)
}

// failPending reports as not imported each message of todo that has no
// outcome yet and that the server did not refuse (refusals are reported
// as they come).
func (im *importer) failPending(todo []prepared, refused map[string]bool, reason string) {
	for _, p := range todo {
		if e, ok := im.opts.Manifest.Lookup(p.job.key, p.f.name); ok && !e.Done && !refused[p.job.key] {
			im.fail(p.job, reason)
		}
	}
}
