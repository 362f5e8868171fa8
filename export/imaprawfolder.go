package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// A folder whose name is not valid modified UTF-7, or came as raw 8-bit
// UTF-8 the server takes back only so (format.Folder.RawName), is read on
// RawConns, which send its name as the server sent it: go-imap would send
// it modified UTF-7 encoded, another folder's name or none. Such
// folders are rare, so they get a connection per Examine and per batch,
// and a UID FETCH per message, whose answer then needs no UID to match.

// examineRaw is Examine for a folder with a raw name.
func (s *imapSource) examineRaw(ctx context.Context, f format.Folder) (format.Folder, []Item, error) {
	var sel rawSelected
	var items []Item
	var conn mailconn.Redial[*mailconn.RawConn]
	defer conn.Drop()
	err := conn.Do(ctx, mailconn.Link[*mailconn.RawConn]{Dial: s.cfg.DialRaw}, s.cfg.Retries, func(c *mailconn.RawConn) error {
		var err error
		if sel, err = rawExamine(c, f.Name); err != nil {
			return err
		}
		items, err = rawFetchMeta(c, sel.exists)
		return err
	})
	if err != nil {
		return f, nil, err
	}
	f.UIDValidity, f.UIDNext = sel.uidValidity, sel.uidNext
	f.PermanentFlags, f.Flags = sel.permanentFlags, sel.flags
	return f, items, nil
}

// rawReader reads the messages of folders with raw names.
type rawReader struct {
	dial    func(context.Context) (*mailconn.RawConn, error)
	retries int
	conn    mailconn.Redial[*mailconn.RawConn] // with the folder selected
}

// read is MessageReader.Read for a folder with a raw name.
func (r *rawReader) read(ctx context.Context, f format.Folder, items []Item, sink Sink) error {
	defer r.conn.Drop()
	l := mailconn.Link[*mailconn.RawConn]{Dial: r.dial, Dialled: func(_ context.Context, c *mailconn.RawConn, _ bool) error {
		sel, err := rawExamine(c, f.Name)
		if err == nil && sel.uidValidity != f.UIDValidity {
			err = fmt.Errorf("%w (was %d, now %d)", errUIDValidity, f.UIDValidity, sel.uidValidity)
		}
		return err
	}}
	for i, it := range items {
		var stop error
		err := r.conn.Do(ctx, l, r.retries, func(c *mailconn.RawConn) error {
			err := fetchRaw(ctx, c, f, it, sink)
			var ae *archiveError
			if errors.As(err, &ae) {
				stop = ae.err
				return nil
			}
			var refused *mailconn.CommandError
			if err != nil && !errors.As(err, &refused) {
				// Out of step, or gone: the next try redials.
				r.conn.Drop()
			}
			return err
		})
		switch {
		case stop != nil:
			return stop
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case errors.Is(err, errUIDValidity):
			for _, it := range items[i:] {
				sink.Fail(f, it, err)
			}
			return nil
		case err != nil:
			sink.Fail(f, it, err)
		}
	}
	return nil
}

// fetchRaw stores one message of the folder selected on c.
func fetchRaw(ctx context.Context, c *mailconn.RawConn, f format.Folder, it Item, sink Sink) error {
	stored := false
	err := c.Run(func() error {
		_, _, err := readFetch(c, func(uid uint32, body io.Reader) error {
			if stored || (uid != 0 && uid != it.UID) {
				return nil
			}
			if err := sink.Put(ctx, f, it, body); err != nil {
				return err
			}
			stored = true
			return nil
		})
		return err
	}, "UID FETCH", mailconn.Atom(fmt.Sprint(it.UID)), mailconn.Atom("(UID BODY.PEEK[])"))
	if err != nil {
		return fmt.Errorf("UID FETCH: %w", err)
	}
	if !stored {
		sink.Warn(fmt.Sprintf("folder %q uid %d: expunged on the server during the export", f.Name, it.UID))
	}
	return nil
}
