package export

import (
	"bytes"
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

// fetcher reads an IMAP folder's messages on a connection of its own.
type fetcher struct {
	mailconn.Session
	raw rawReader // for folders with raw names
}

// errUIDValidity means a folder's UIDVALIDITY changed while the export ran,
// so its UIDs no longer name the messages that were examined.
var errUIDValidity = errors.New("UIDVALIDITY changed during the export; run the export again")

// errNoProgress means a batch kept failing before its first message.
var errNoProgress = errors.New("connection lost twice before any message of the batch arrived")

func (w *fetcher) Close() { w.Session.Close() }

func (w *fetcher) Read(ctx context.Context, f format.Folder, items []Item, sink Sink) error {
	if f.RawName {
		return w.raw.read(ctx, f, items, sink)
	}
	byUID := make(map[imap.UID]Item, len(items))
	uids := make([]imap.UID, len(items))
	for i, it := range items {
		byUID[imap.UID(it.UID)] = it
		uids[i] = imap.UID(it.UID)
	}
	return w.fetch(ctx, f, byUID, uids, sink)
}

// fetch downloads the messages uids. A dropped connection is redialled and
// the messages not yet stored are asked for again; a NO for the batch is
// narrowed down to the messages the server refuses, which are reported.
// Only archive failures and cancellation are returned.
func (w *fetcher) fetch(ctx context.Context, f format.Folder, byUID map[imap.UID]Item, uids []imap.UID, sink Sink) error {
	remaining := uids
	var stop error
	// Some servers drop the connection on a message they cannot read
	// (Dovecot does on an unreadable file): a batch that dies twice without
	// progress is split, and a lone message gets few reconnects.
	retries, stalls := w.Retries, 0
	if len(remaining) == 1 {
		retries = 2
	}
	err := w.DoN(ctx, retries, func(c *imapclient.Client) error {
		if err := w.examine(c, f); err != nil {
			return err
		}
		done, err := w.fetchSet(ctx, c, f, byUID, remaining, sink)
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
			sink.Warn(fmt.Sprintf("folder %q uid %d: expunged on the server during the export", f.Name, uid))
		}
		return nil
	case len(remaining) > 1 && !errors.Is(err, errUIDValidity):
		// One refused message fails a whole UID FETCH on some servers:
		// ask for each message alone to find which.
		for _, uid := range remaining {
			if err := w.fetch(ctx, f, byUID, []imap.UID{uid}, sink); err != nil {
				return err
			}
		}
		return nil
	}
	for _, uid := range remaining {
		sink.Fail(f, byUID[uid], err)
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

// fetchSet fetches the bodies of uids and hands each to sink; it returns
// the UIDs done.
func (w *fetcher) fetchSet(ctx context.Context, c *imapclient.Client, f format.Folder, byUID map[imap.UID]Item, uids []imap.UID, sink Sink) (map[imap.UID]bool, error) {
	done := map[imap.UID]bool{}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var early []byte
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
				if uid == 0 {
					// The server sent the body before the UID that
					// says which message it is: keep it until then.
					b, err := io.ReadAll(rd)
					if err != nil {
						return done, fmt.Errorf("UID FETCH: %w", err)
					}
					early = b
					continue
				}
				m, ok := byUID[uid]
				if !ok || done[uid] {
					continue
				}
				err := sink.Put(ctx, f, m, rd)
				var ae *archiveError
				switch {
				case errors.As(err, &ae) || (err != nil && ctx.Err() != nil):
					cmd.Close()
					return done, err
				case err != nil:
					// The connection broke inside the literal. Reading
					// on races with go-imap's reader goroutine: leave
					// the command be; the caller drops the connection.
					return done, fmt.Errorf("UID FETCH: %w", err)
				}
				stored = true
			}
		}
		if m, ok := byUID[uid]; ok && early != nil && !stored && !done[uid] {
			err := sink.Put(ctx, f, m, bytes.NewReader(early))
			if err != nil {
				cmd.Close()
				return done, err
			}
			stored = true
		}
		if stored {
			done[uid] = true
		}
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
