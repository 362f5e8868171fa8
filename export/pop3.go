package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/mailferry/mailferry/internal/progress"
	"io"
	"log/slog"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/pop3"
)

// POP3Options configure a POP3 export.
type POP3Options struct {
	Options
	// Endpoint is the source's URL without credentials, as recorded.
	Endpoint string
	// Dial opens a logged-in session; called again after a drop.
	Dial     func(ctx context.Context) (*pop3.Client, error)
	Throttle Throttle
	Progress *progress.Progress
	Retries  int
	// DeleteAfterExport removes the exported messages from the server,
	// only after the snapshot naming them is committed and each message
	// has been read back from the archive and checked.
	DeleteAfterExport bool
}

// pop3Folder is the one folder a POP3 maildrop has.
const pop3Folder = "INBOX"

// POP3 exports a POP3 maildrop into the archive as a new snapshot holding
// one folder, INBOX. Messages are recognised by UIDL across runs (a server
// without UIDL is handled by content: everything is downloaded, nothing is
// stored twice). The maildrop is never changed, unless DeleteAfterExport.
func POP3(ctx context.Context, a *archive.Archive, opts POP3Options) (*Report, error) {
	if opts.Retries <= 0 {
		opts.Retries = 6
	}
	if opts.Progress == nil {
		opts.Progress = new(progress.Progress)
	}
	s := &pop3Session{dial: opts.Dial, retries: opts.Retries}
	defer s.close()
	var uidls []pop3.MessageUID
	var sizes map[int]int64
	var hasUIDL bool
	err := s.do(ctx, func(c *pop3.Client) error {
		var err error
		uidls, sizes, hasUIDL, err = listMaildrop(ctx, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", opts.Endpoint, err)
	}
	r, err := startRun(a, opts.Account, format.Source{Kind: format.SourcePOP3, Endpoint: opts.Endpoint}, opts.Options, nil)
	if err != nil {
		return nil, err
	}
	if !hasUIDL {
		r.warn("the server has no UIDL: every message is downloaded, and recognised by its content")
	}
	k, err := loadKnown(a, r.idx, opts.Account)
	if err != nil {
		return r.stop(), err
	}
	err = exportPOP3(ctx, r, k, s, uidls, sizes, opts)
	rep, err := r.finishOrStop(ctx, err)
	if err != nil || !opts.DeleteAfterExport || !rep.Complete() {
		return rep, err
	}
	return rep, deleteExported(ctx, a, s, rep.Snapshot, opts)
}

// listMaildrop returns the maildrop's messages in order with their UIDLs
// (empty when the server has no UIDL, which the third result says) and the
// sizes LIST gives.
func listMaildrop(ctx context.Context, c *pop3.Client) ([]pop3.MessageUID, map[int]int64, bool, error) {
	list, err := c.List(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("LIST: %w", err)
	}
	sizes := map[int]int64{}
	for _, m := range list {
		sizes[m.Number] = m.Size
	}
	uidls, err := c.UIDL(ctx)
	if errors.Is(err, pop3.ErrNoUIDL) {
		uidls = nil
		for _, m := range list {
			uidls = append(uidls, pop3.MessageUID{Number: m.Number})
		}
		return uidls, sizes, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("UIDL: %w", err)
	}
	return uidls, sizes, true, nil
}

func exportPOP3(ctx context.Context, r *run, k *known, s *pop3Session, uidls []pop3.MessageUID, sizes map[int]int64, opts POP3Options) error {
	if err := r.folder(format.Folder{Name: pop3Folder, Subscribed: true}); err != nil {
		return err
	}
	var total int64
	for _, sz := range sizes {
		total += sz
	}
	opts.Progress.MessagesTotal.Add(int64(len(uidls)))
	opts.Progress.Folder(pop3Folder, int64(len(uidls)), total)
	known := k.byUIDL[pop3Folder]
	for _, m := range uidls {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if ref, ok := known[m.UID]; ok && m.UID != "" {
			if err := r.message(format.Message{Folder: pop3Folder, UID: uint32(m.Number), UIDL: m.UID, ID: ref.id, Size: ref.size,
				InternalDate: ref.date, DateSource: ref.dateSource}, false); err != nil {
				return err
			}
			opts.Progress.Message(pop3Folder, ref.size, false)
			continue
		}
		if err := retrieve(ctx, r, s, m, opts); err != nil {
			return err
		}
	}
	return nil
}

// retrieve downloads one message (by UIDL, so that a session redialled
// after a drop finds it under its new number) and records it.
func retrieve(ctx context.Context, r *run, s *pop3Session, m pop3.MessageUID, opts POP3Options) error {
	var stop error
	err := s.do(ctx, func(c *pop3.Client) error {
		n := m.Number
		if s.redialled && m.UID != "" {
			var ok bool
			if n, ok = s.numbers[m.UID]; !ok {
				return errVanished
			}
		}
		if t := opts.Throttle; t != nil {
			if err := t.WaitMessage(ctx); err != nil {
				return err
			}
		}
		rc, err := c.Retr(ctx, n)
		if err != nil {
			return fmt.Errorf("RETR %d: %w", n, err)
		}
		var rd io.Reader = rc
		if t := opts.Throttle; t != nil {
			rd = t.Reader(ctx, rd)
		}
		hdr := &headerCapture{r: rd}
		id, size, err := r.w.Put(hdr)
		rc.Close()
		if err != nil {
			if !isSourceError(err) {
				stop = err
				return nil
			}
			return fmt.Errorf("RETR %d: %w", n, err)
		}
		date, src := pop3Date(hdr.header())
		if err := r.message(format.Message{Folder: pop3Folder, UID: uint32(m.Number), UIDL: m.UID, ID: id, Size: size,
			InternalDate: date, DateSource: src}, true); err != nil {
			stop = err
			return nil
		}
		opts.Progress.Message(pop3Folder, size, true)
		return nil
	})
	switch {
	case stop != nil:
		return stop
	case errors.Is(err, errVanished):
		r.warn(fmt.Sprintf("UIDL %q: deleted on the server during the export", m.UID))
	case err != nil:
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		r.fail(pop3Folder, fmt.Sprintf("message %d (UIDL %q)", m.Number, m.UID), err)
		opts.Progress.Failed()
	}
	return nil
}

var errVanished = errors.New("message no longer on the server")

// pop3Session is a POP3 session redialled after a drop. After a redial the
// message numbers are looked up again by UIDL.
type pop3Session struct {
	dial      func(ctx context.Context) (*pop3.Client, error)
	retries   int
	c         *pop3.Client
	backoff   mailconn.Backoff
	redialled bool
	numbers   map[string]int
}

func (s *pop3Session) do(ctx context.Context, fn func(*pop3.Client) error) error {
	var err error
	for attempt := 0; attempt <= s.retries; attempt++ {
		if attempt > 0 {
			if werr := s.backoff.Wait(ctx); werr != nil {
				return werr
			}
		}
		if s.c == nil {
			if err = s.connect(ctx, attempt > 0); err != nil {
				if ctx.Err() != nil || !mailconn.IsConnectionError(err) {
					return err
				}
				continue
			}
		}
		if err = fn(s.c); err == nil || !mailconn.IsConnectionError(err) {
			if err == nil {
				s.backoff.Reset()
			}
			return err
		}
		slog.Warn("POP3 connection lost; redialling", "error", err)
		s.c.Close()
		s.c = nil
	}
	return fmt.Errorf("gave up after %d reconnects: %w", s.retries, err)
}

func (s *pop3Session) connect(ctx context.Context, again bool) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	s.c = c
	if s.numbers != nil || again {
		// Message numbers are per session: map UIDLs to the new ones.
		uidls, err := c.UIDL(ctx)
		if err != nil && !errors.Is(err, pop3.ErrNoUIDL) {
			return err
		}
		s.numbers = map[string]int{}
		for _, u := range uidls {
			s.numbers[u.UID] = u.Number
		}
		s.redialled = true
	}
	return nil
}

func (s *pop3Session) close() {
	if s.c != nil {
		// QUIT would commit deletions; none are marked outside
		// deleteExported, which quits itself. Close leaves all as it was.
		s.c.Close()
		s.c = nil
	}
}

// headerCapture passes a message through and keeps its header section (up
// to 256 KiB), from which POP3's missing internal date is derived.
type headerCapture struct {
	r    io.Reader
	buf  bytes.Buffer
	done bool
}

const maxCapturedHeader = 256 << 10

func (h *headerCapture) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if !h.done && n > 0 {
		// Look for the empty line only where it can newly be: in what was
		// just read and the two bytes before it.
		from := max(h.buf.Len()-2, 0)
		h.buf.Write(p[:n])
		b := h.buf.Bytes()[from:]
		if i := bytes.Index(b, []byte("\n\r\n")); i >= 0 {
			h.buf.Truncate(from + i + 3)
			h.done = true
		} else if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			h.buf.Truncate(from + i + 2)
			h.done = true
		} else if h.buf.Len() >= maxCapturedHeader {
			h.done = true
		}
	}
	if err == io.EOF {
		h.done = true
	}
	return n, err
}

func (h *headerCapture) header() []byte { return h.buf.Bytes() }
