package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// fetcher downloads fetch jobs on a connection of its own.
type fetcher struct {
	mailconn.Session
	r    *run
	opts *IMAPOptions
}

// errUIDValidity means a folder's UIDVALIDITY changed while the export ran,
// so its UIDs no longer name the messages that were examined.
var errUIDValidity = errors.New("UIDVALIDITY changed during the export; run the export again")

// errNoProgress means a batch kept failing before its first message.
var errNoProgress = errors.New("connection lost twice before any message of the batch arrived")

// archiveError is a failure to write the archive: it stops the export,
// where a source's failure only skips messages.
type archiveError struct{ err error }

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

// fetch downloads one job's messages. A dropped connection is redialled and
// the messages not yet stored are asked for again; a NO for the batch is
// narrowed down to the messages the server refuses, which are reported.
// Only archive failures and cancellation are returned.
func (w *fetcher) fetch(ctx context.Context, job fetchJob) error {
	folder := job.fw.folder.Name
	remaining := job.uids
	var stop error
	// Some servers drop the connection on a message they cannot read
	// (Dovecot does on an unreadable file): a batch that dies twice without
	// progress is split, and a lone message gets few reconnects.
	retries, stalls := w.Retries, 0
	if len(remaining) == 1 {
		retries = 2
	}
	err := w.DoN(ctx, retries, func(c *imapclient.Client) error {
		if err := w.examine(c, job.fw.folder); err != nil {
			return err
		}
		done, err := w.fetchSet(ctx, c, job.fw, remaining)
		remaining = slices.DeleteFunc(remaining, func(u imap.UID) bool { return done[u] })
		var ae *archiveError
		if errors.As(err, &ae) {
			stop = ae.err
			return nil
		}
		if err != nil && len(done) == 0 && len(remaining) > 1 && mailconn.IsConnectionError(err) {
			if stalls++; stalls >= 2 {
				return fmt.Errorf("%w: %v", errNoProgress, err)
			}
		}
		return err
	})
	switch {
	case stop != nil:
		return stop
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case err == nil:
		for _, uid := range remaining {
			w.r.warn(fmt.Sprintf("folder %q uid %d: expunged on the server during the export", folder, uid))
		}
		return nil
	case len(remaining) > 1 && !errors.Is(err, errUIDValidity):
		// One refused message fails a whole UID FETCH on some servers:
		// ask for each message alone to find which.
		for _, uid := range remaining {
			if err := w.fetch(ctx, fetchJob{fw: job.fw, uids: []imap.UID{uid}}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, uid := range remaining {
		w.r.fail(folder, fmt.Sprintf("uid %d", uid), err)
		w.opts.Progress.Failed()
	}
	return nil
}

// examine selects the folder read-only unless it already is, and checks
// that its UIDVALIDITY is the one its messages were examined under.
func (w *fetcher) examine(c *imapclient.Client, f format.Folder) error {
	if w.Selected == f.Name {
		return nil
	}
	sel, err := c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("EXAMINE: %w", err)
	}
	if sel.UIDValidity != f.UIDValidity {
		return fmt.Errorf("%w (was %d, now %d)", errUIDValidity, f.UIDValidity, sel.UIDValidity)
	}
	w.Selected = f.Name
	return nil
}

// fetchSet fetches the bodies of uids and records each message stored; it
// returns the UIDs done.
func (w *fetcher) fetchSet(ctx context.Context, c *imapclient.Client, fw *folderWork, uids []imap.UID) (map[imap.UID]bool, error) {
	done := map[imap.UID]bool{}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var id format.ID
		var size int64
		stored := false
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				var rd io.Reader = &fullLiteral{r: it.Literal, size: it.Literal.Size()}
				if t := w.opts.Throttle; t != nil {
					if err := t.WaitMessage(ctx); err != nil {
						cmd.Close()
						return done, err
					}
					rd = t.Reader(ctx, rd)
				}
				var err error
				id, size, err = w.r.w.Put(rd)
				if err != nil && !isSourceError(err) {
					cmd.Close()
					return done, &archiveError{err}
				}
				if err != nil {
					// The connection broke inside the literal. Reading
					// on races with go-imap's reader goroutine: leave
					// the command be; the caller drops the connection.
					return done, fmt.Errorf("UID FETCH: %w", err)
				}
				stored = true
			}
		}
		m, ok := fw.meta[uid]
		if !stored || !ok {
			continue
		}
		if size != m.size {
			w.r.warn(fmt.Sprintf("folder %q uid %d: RFC822.SIZE says %d bytes, the server sent %d; the bytes sent are kept", fw.folder.Name, uid, m.size, size))
		}
		if err := w.r.message(format.Message{Folder: fw.folder.Name, UID: uint32(uid), ID: id, Size: size,
			Flags: m.flags, InternalDate: m.date}, true); err != nil {
			cmd.Close()
			return done, &archiveError{err}
		}
		w.opts.Progress.Message(fw.folder.Name, size, true)
		done[uid] = true
	}
	if err := cmd.Close(); err != nil {
		return done, fmt.Errorf("UID FETCH: %w", err)
	}
	return done, nil
}

// fullLiteral fails when a FETCH literal ends before its announced size:
// go-imap (v2 beta.8) reports a connection cut inside a literal as a clean
// end of data, which would store a truncated message, or, once its reader
// goroutine has seen the error, as endless empty reads.
type fullLiteral struct {
	r       io.Reader
	n, size int64
	empty   int
}

// maxEmptyReads is how many reads in a row may return nothing before the
// literal is taken as cut (io.Reader allows a few; a dead one gives them
// forever).
const maxEmptyReads = 100

func (f *fullLiteral) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	switch {
	case err == io.EOF && f.n < f.size:
		return n, fmt.Errorf("message cut short at %d of %d bytes: %w", f.n, f.size, io.ErrUnexpectedEOF)
	case n == 0 && err == nil && len(p) > 0:
		if f.empty++; f.empty >= maxEmptyReads {
			return 0, fmt.Errorf("message stalled at %d of %d bytes: %w", f.n, f.size, io.ErrUnexpectedEOF)
		}
	default:
		f.empty = 0
	}
	return n, err
}
