package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mailferry/mailferry/format"
)

// ErrSizeMismatch is returned by a Result's Body when the message
// turns out shorter or longer than the size announced for it: an APPEND
// literal of the wrong length would wreck the IMAP session, so the read
// fails instead.
var ErrSizeMismatch = errors.New("message size differs from the size announced")

// smallMessage is the size up to which Apply reads a message into memory
// for the line-length check instead of reading it from the archive twice.
const smallMessage = 1 << 20

// Set is the import transforms chosen for one run: each a pure
// function of the message, each change reported. The zero value changes
// nothing but what IMAP requires (see FlagRules).
type Set struct {
	// Profile is the destination's profile; SplitForAppend follows it.
	Profile Profile
	Flags   FlagRules
	Headers HeaderEdits
	// ProvenanceAccount, when set, adds X-Mailferry-Source naming this
	// account and the message's folder and UID to every message.
	ProvenanceAccount string
	// MaxLineLength is the longest line to send (0: no limit); longer ones
	// are fixed by re-encoding (see LineFix). At least MinLineLimit.
	MaxLineLength int
	// MaxSize skips messages over this many bytes (0: no limit).
	MaxSize int64
	// TempDir is where messages whose lines were re-encoded are spooled to
	// learn their new size; "" for os.TempDir.
	TempDir string
}

// Result is what to APPEND for one message.
type Result struct {
	// Flags are the flags the APPEND carries.
	Flags format.Flags
	// StoreAfter are flags to set with STORE once the APPEND succeeded
	// (Exchange's \Flagged, see SplitForAppend); usually empty.
	StoreAfter format.Flags
	// Body yields exactly Size bytes, the message as transformed; the
	// caller must Close it. Nil when Skip is set.
	Body io.ReadCloser
	// Size is the length of Body, known before it is read, as an IMAP
	// literal needs.
	Size int64
	// Changes says what the transforms changed, one line each; empty when
	// the message goes as it was stored.
	Changes []string
	// Skip, when set, says why the message is not to be imported at all.
	Skip string
}

// Validate checks the options once, before the first message.
func (t *Set) Validate() error {
	if t.MaxLineLength != 0 && t.MaxLineLength < MinLineLimit {
		return fmt.Errorf("%w: --max-line-length %d, the least is %d", ErrLineLimit, t.MaxLineLength, MinLineLimit)
	}
	if t.MaxSize < 0 {
		return fmt.Errorf("--max-size %d is negative", t.MaxSize)
	}
	for _, a := range t.Headers.Add {
		if _, err := ParseHeaderAdd(a.Name + ": " + a.Value); err != nil {
			return err
		}
	}
	for _, r := range t.Headers.Rename {
		if _, err := ParseHeaderRename(r.From + ":" + r.To); err != nil {
			return err
		}
	}
	for _, n := range t.Headers.Remove {
		if _, err := ParseHeaderRemove(n); err != nil {
			return err
		}
	}
	return nil
}

// SkipReason returns why m would be skipped, judging by its stored size
// alone: for plans and --dry-run, which read no message. Apply can still
// skip a message a transform made too big.
func (t *Set) SkipReason(m format.Message) string {
	return CheckMaxSize(m.Size, t.MaxSize)
}

// Apply transforms one message for its destination folder, whose
// PERMANENTFLAGS are permanent (empty when unknown), reading the message's
// bytes through open.
//
// The contract on Body and Size:
//   - When no transform changes the bytes, Body is a reader open returned,
//     passed through without a copy, and Size is m.Size.
//   - When only header edits change them, Body streams the edited header
//     followed by the rest of the archive's reader; Size is m.Size plus what
//     the edits added. Only the header section is held in memory.
//   - When long lines are re-encoded, the new size cannot be known without
//     writing the message out: it is spooled to a temporary file in TempDir,
//     which Body's Close removes.
//
// In every case Body fails with ErrSizeMismatch rather than yield a byte
// count other than Size. With MaxLineLength set, a message up to 1 MiB is
// read into memory once; a bigger one is read through open two or three
// times instead (check, then stream; or check, plan, rewrite), never held.
// Skip is set, and Body nil, for a message over MaxSize, before or after
// the transforms.
func (t *Set) Apply(m format.Message, permanent []string, open Opener) (*Result, error) {
	res := &Result{}
	if why := t.SkipReason(m); why != "" {
		res.Skip = why
		return res, nil
	}
	flags, changes := t.Flags.Apply(m.Flags, permanent)
	res.Flags, res.StoreAfter = SplitForAppend(flags, t.Profile)
	if len(res.StoreAfter) > 0 {
		changes = append(changes, `flag \Flagged set with STORE after the APPEND (the destination forgets it when APPEND sets it)`)
	}

	edits := t.Headers
	if t.ProvenanceAccount != "" {
		edits.Add = append(append([]HeaderAdd(nil), edits.Add...), Provenance(t.ProvenanceAccount, m))
	}
	body, size, bodyChanges, err := t.body(m, &edits, open)
	if err != nil {
		return nil, err
	}
	res.Changes = append(changes, bodyChanges...)
	if why := CheckMaxSize(size, t.MaxSize); why != "" {
		body.Close()
		res.Skip = why + " after the transforms"
		return res, nil
	}
	res.Body, res.Size = &exactSizeReader{rc: body, left: size}, size
	return res, nil
}

// body returns the message's bytes after the header edits and the line
// fix, their size and what changed.
func (t *Set) body(m format.Message, edits *HeaderEdits, open Opener) (io.ReadCloser, int64, []string, error) {
	if edits.IsZero() && t.MaxLineLength == 0 {
		rc, err := open()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("open message: %w", err)
		}
		return rc, m.Size, nil, nil
	}
	// The header edits are pure, so re-applying them to a fresh reader
	// gives the same bytes each time the line fix re-opens the message.
	var changes []string
	var delta int64
	first := true
	edited := func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, fmt.Errorf("open message: %w", err)
		}
		r, d, ch, err := edits.apply(rc)
		if err != nil {
			rc.Close()
			return nil, err
		}
		if first {
			changes, delta, first = ch, d, false
		}
		return readCloser{Reader: r, Closer: rc}, nil
	}
	if t.MaxLineLength == 0 {
		rc, err := edited()
		if err != nil {
			return nil, 0, nil, err
		}
		return rc, m.Size + delta, changes, nil
	}

	src := edited
	if m.Size <= smallMessage {
		rc, err := edited()
		if err != nil {
			return nil, 0, nil, err
		}
		b, err := io.ReadAll(io.LimitReader(rc, smallMessage+int64(maxHeaderSection)+1))
		rc.Close()
		if err != nil {
			return nil, 0, nil, fmt.Errorf("read message: %w", err)
		}
		if int64(len(b)) != m.Size+delta {
			return nil, 0, nil, fmt.Errorf("%w: read %d bytes, expected %d", ErrSizeMismatch, len(b), m.Size+delta)
		}
		src = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	fix, err := PlanLineFix(src, t.MaxLineLength)
	if err != nil {
		return nil, 0, nil, err
	}
	changes = append(changes, fix.Changes...)
	for _, u := range fix.Unfixed {
		changes = append(changes, "line too long: "+u)
	}
	if !fix.Rewrites() {
		rc, err := src()
		if err != nil {
			return nil, 0, nil, err
		}
		return rc, m.Size + delta, changes, nil
	}
	f, err := os.CreateTemp(t.TempDir, "mailferry-message-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool re-encoded message: %w", err)
	}
	spool := &spoolFile{f}
	n, err := fix.WriteTo(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		spool.Close()
		return nil, 0, nil, fmt.Errorf("spool re-encoded message: %w", err)
	}
	return spool, n, changes, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// spoolFile is a temporary file that goes away when closed.
type spoolFile struct{ *os.File }

func (s *spoolFile) Close() error {
	err := s.File.Close()
	if rerr := os.Remove(s.Name()); err == nil {
		err = rerr
	}
	return err
}

// exactSizeReader passes on exactly left bytes and fails if its source has
// fewer or more.
type exactSizeReader struct {
	rc   io.ReadCloser
	left int64
}

func (e *exactSizeReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		// One byte more would mean the size was wrong.
		var one [1]byte
		n, err := e.rc.Read(one[:])
		for n == 0 && err == nil {
			n, err = e.rc.Read(one[:])
		}
		if n > 0 {
			return 0, fmt.Errorf("%w: more bytes than announced", ErrSizeMismatch)
		}
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.rc.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("%w: %d bytes short", ErrSizeMismatch, e.left)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (e *exactSizeReader) Close() error { return e.rc.Close() }

// MayChangeBytes reports whether Apply can send other bytes than stored.
func (t *Set) MayChangeBytes() bool {
	return !t.Headers.IsZero() || t.ProvenanceAccount != "" || t.MaxLineLength != 0
}
