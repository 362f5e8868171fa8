package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// appenderConn is a worker's LITERAL+ connection (mailconn.Appender),
// dialled when first needed; unsupported once the server turned out not
// to offer LITERAL+, after which the worker appends through go-imap.
type appenderConn struct {
	dial        func(context.Context) (*mailconn.Appender, error)
	ap          *mailconn.Appender
	backoff     mailconn.Backoff
	unsupported bool
}

func (ac *appenderConn) close() {
	if ac.ap != nil {
		ac.ap.Close()
		ac.ap = nil
	}
}

// appendStreamed sends the APPENDs of messages whose intents are on disk
// all at once over the worker's LITERAL+ connection, then reads the
// answers in order. After a dropped connection, what has no outcome is
// prepared again (settled on the go-imap session s, new intents) and sent
// again. It returns false when the server has no LITERAL+ and nothing was
// sent. Only manifest and archive failures and cancellation are errors.
func (im *importer) appendStreamed(ctx context.Context, s *mailconn.Session, ac *appenderConn, todo []prepared) (bool, error) {
	refused := map[string]bool{}
	var lastErr error
	for attempt := 0; attempt <= im.opts.Retries; attempt++ {
		if attempt > 0 {
			ac.close()
			if err := ac.backoff.Wait(ctx); err != nil {
				return true, context.Cause(ctx)
			}
			again, err := im.reprepare(ctx, s, todo, refused)
			if err != nil {
				return true, err
			}
			todo = again
		}
		if len(todo) == 0 {
			return true, nil
		}
		if ac.ap == nil {
			ap, err := ac.dial(ctx)
			if errors.Is(err, mailconn.ErrNoLiteralPlus) {
				ac.unsupported = true
				if attempt == 0 {
					return false, nil
				}
				return true, err
			}
			if err != nil {
				if ctx.Err() != nil {
					return true, context.Cause(ctx)
				}
				lastErr = err
				if mailconn.IsConnectionError(err) {
					continue
				}
				break
			}
			ac.ap = ap
		}
		done, err := im.streamOnce(ctx, s, ac.ap, todo, refused, true)
		if err != nil {
			var ae *archiveError
			if errors.As(err, &ae) {
				return true, ae.err
			}
			if ctx.Err() != nil {
				return true, context.Cause(ctx)
			}
			lastErr = err
			if done {
				ac.backoff.Reset()
			}
			continue
		}
		ac.backoff.Reset()
		return true, nil
	}
	im.failPending(todo, refused, fmt.Errorf("gave up after %d reconnects: %w", im.opts.Retries, lastErr))
	return true, nil
}

// Bounds of one MULTIAPPEND: the server commits its messages together, so
// a refusal or a cut connection costs them all (they are then sent again).
const (
	maxGroupMessages = 64
	maxGroupBytes    = 16 << 20
)

// streamOnce sends todo over ap and records the answers, which a second
// goroutine reads while messages are still being sent, so the server never
// waits for the sender nor the sender for the server. Where the server has
// MULTIAPPEND (and multi is set), consecutive messages for one folder go in
// one APPEND; when such an APPEND is refused, none of its messages landed
// and each is sent again on its own, so that the refusal is pinned on the
// message that caused it. done reports that at least one message landed.
// A connection error leaves the rest pending.
func (im *importer) streamOnce(ctx context.Context, s *mailconn.Session, ap *mailconn.Appender, todo []prepared, refused map[string]bool, multi bool) (bool, error) {
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
				close(sentCh)
				for range answers {
				}
				return false, &archiveError{err}
			}
			err = ap.AppendMessage(res.Flags, p.job.msg.InternalDate, res.Size, im.opts.Throttle.Reader(ctx, res.Body))
			res.Body.Close()
			if err != nil {
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
	for a := range answers {
		var ce *mailconn.CommandError
		switch {
		case errors.As(a.err, &ce) && len(a.group) > 1:
			alone = append(alone, a.group...)
		case errors.As(a.err, &ce):
			if err := im.refusedBy(a.group[0], refused, a.err); err != nil && readErr == nil {
				readErr = &archiveError{err}
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
					readErr = &archiveError{err}
				}
				landed = true
			}
		}
	}
	if len(later) > 0 {
		if err := s.Do(ctx, func(c *imapclient.Client) error { return storeFlagsAfter(c, later) }); err != nil {
			im.fail(later[0].folder, fmt.Sprintf("%d messages", len(later)), fmt.Errorf("flags to set after APPEND: %w", err))
		}
	}
	if readErr != nil {
		return landed, readErr
	}
	if sendErr != nil {
		return landed, sendErr
	}
	if len(alone) > 0 {
		done, err := im.streamOnce(ctx, s, ap, alone, refused, false)
		return landed || done, err
	}
	return landed, nil
}

// reprepare settles what is left of todo after a dropped connection and
// writes new intents for what did not land.
func (im *importer) reprepare(ctx context.Context, s *mailconn.Session, todo []prepared, refused map[string]bool) ([]prepared, error) {
	var again []prepared
	stop, err := onSession(ctx, s, func(c *imapclient.Client) error {
		var err error
		again, err = im.reprepareOn(c, todo, refused)
		return err
	})
	if stop != nil {
		return nil, stop
	}
	return again, err
}

// reprepareOn prepares again, on c, the messages of todo the server did
// not refuse (settling first, one pass per folder, those an interrupted
// attempt may have landed), and writes their new intents. Manifest
// failures come back as archiveError.
func (im *importer) reprepareOn(c *imapclient.Client, todo []prepared, refused map[string]bool) ([]prepared, error) {
	if err := im.settleBatch(c, todo, refused); err != nil {
		return nil, err
	}
	var jobs []appendJob
	for _, p := range todo {
		if !refused[p.job.key] {
			jobs = append(jobs, p.job)
		}
	}
	return im.prepareAll(c, jobs)
}
