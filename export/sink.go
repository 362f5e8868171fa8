package export

import (
	"context"
	"fmt"
	"io"

	"github.com/mailferry/mailferry/format"
)

// runSink stores what a source's readers read into the run's archive.
type runSink struct {
	r    *run
	opts *Options
	// exactSize says the sizes the source lists are the bytes it sends
	// (IMAP's RFC822.SIZE), so a difference is worth a warning.
	exactSize bool
}

// archiveError is a failure to write the archive: it stops the export,
// where a source's failure only skips messages.
type archiveError struct{ err error }

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

func (s *runSink) Put(ctx context.Context, f format.Folder, it Item, rd io.Reader) error {
	if t := s.opts.Throttle; t != nil {
		if err := t.WaitMessage(ctx); err != nil {
			return err
		}
		rd = t.Reader(ctx, rd)
	}
	var hdr *headerCapture
	if it.InternalDate.IsZero() {
		hdr = &headerCapture{r: rd}
		rd = hdr
	}
	id, size, err := s.r.w.Put(rd)
	if err != nil {
		if isSourceError(err) {
			return err
		}
		return &archiveError{err}
	}
	if hdr != nil {
		it.InternalDate, it.DateSource = messageDate(hdr.header())
	}
	if s.exactSize && size != it.Size {
		s.Warn(fmt.Sprintf("folder %q %s: the server announced %d bytes and sent %d; the bytes sent are kept", f.Name, it.Name, it.Size, size))
	}
	m := format.Message{Folder: f.Name, UID: it.UID, UIDL: it.UIDL, ID: id, Size: size,
		Flags: it.Flags, InternalDate: it.InternalDate, DateSource: it.DateSource}
	if err := s.r.message(m, true); err != nil {
		return &archiveError{err}
	}
	s.opts.Progress.Message(f.Name, size, true)
	return nil
}

func (s *runSink) Fail(f format.Folder, it Item, err error) {
	s.r.fail(f.Name, it.Name, err)
	s.opts.Progress.Failed()
}

func (s *runSink) Warn(msg string) { s.r.warn(msg) }
