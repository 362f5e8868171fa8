package transform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// ErrSizeMismatch is returned by Apply or by a Result's Body when the
// message turns out shorter or longer than the size announced for it: an
// APPEND literal of the wrong length would wreck the IMAP session, so the
// read fails instead.
var ErrSizeMismatch = errors.New("message size differs from the size announced")

// smallMessage is the size up to which Apply reads a message into memory
// once instead of reading it from the archive twice or more (to learn its
// size on the wire, to check its lines, then to send it).
const smallMessage = 1 << 20

// Set is the import transforms chosen for one run: each a pure
// function of the message, each change reported. The zero value changes
// nothing but what IMAP requires (see FlagRules and the wire stage in
// wire.go).
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
	// MaxSize skips messages over this many bytes (0: no limit);
	// MaxSizeFrom names where the limit came from in skip reasons when it
	// is not --max-size (the server's APPENDLIMIT).
	MaxSize     int64
	MaxSizeFrom string
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
	// Body yields exactly Size bytes, the message as transformed, in CRLF
	// lines; the caller must Close it. Nil when Skip is set.
	Body io.ReadCloser
	// Size is the length of Body, known before it is read, as an IMAP
	// literal needs.
	Size int64
	// HasNUL is set when Body holds a NUL byte, which IMAP takes only in a
	// BINARY literal ~{Size} (RFC 3516): the caller sends it so or refuses
	// the message.
	HasNUL bool
	// Changes say what the transforms changed, one each; empty when the
	// message goes as it was stored. Kinds(Changes) is what a report counts.
	Changes []Change
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
	if c := t.Profile.MaxSizeCeiling; c > 0 && (t.MaxSize == 0 || t.MaxSize > c) {
		return fmt.Errorf("--max-size %d: %s takes messages of %d bytes at most", t.MaxSize, t.Profile.Name, c)
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
	return t.checkSize(m.Size)
}

// checkSize is CheckMaxSize with the limit named as it was set.
func (t *Set) checkSize(size int64) string {
	why := CheckMaxSize(size, t.MaxSize)
	if why != "" && t.MaxSizeFrom != "" {
		why = strings.Replace(why, "--max-size", t.MaxSizeFrom, 1)
	}
	return why
}

// Apply transforms one message for its destination folder, whose
// PERMANENTFLAGS are permanent (empty when unknown), reading the message's
// bytes through open.
//
// The stages run in this order: header edits, the line fix, then the wire
// stage (bare LF to CRLF, NUL noted). How Body and Size come about:
//   - A message up to smallMessage (1 MiB) is read into memory once, header
//     edits applied, and every stage works on those bytes.
//   - A bigger one is never held: it is read through open once to learn its
//     size on the wire, then Body streams it from open again, header edits
//     and line endings converted on the fly. Only a header section is held.
//   - When long lines are re-encoded, the new size cannot be known without
//     writing the message out: it is spooled, line endings converted, to a
//     temporary file in TempDir, which Body's Close removes. With
//     MaxLineLength set, a big message is read through open two or three
//     times before that (check, then plan and rewrite).
//
// Apply or Body fails with ErrSizeMismatch rather than yield a byte count
// other than Size. Skip is set, and Body nil, for a message over MaxSize,
// before or after the transforms.
func (t *Set) Apply(m format.Message, permanent []string, open Opener) (*Result, error) {
	res := &Result{}
	if why := t.SkipReason(m); why != "" {
		res.Skip = why
		return res, nil
	}
	flags, changes := t.Flags.Apply(m.Flags, permanent)
	res.Flags, res.StoreAfter = SplitForAppend(flags, t.Profile)
	if len(res.StoreAfter) > 0 {
		changes = append(changes, Change{KindFlagStoredAfter, `flag \Flagged set with STORE after the APPEND (the destination forgets it when APPEND sets it)`})
	}

	edits := t.Headers
	if t.ProvenanceAccount != "" {
		edits.Add = append(append([]HeaderAdd(nil), edits.Add...), Provenance(t.ProvenanceAccount, m))
	}
	b, err := t.body(m, &edits, open)
	if err != nil {
		return nil, err
	}
	res.Changes, res.HasNUL = append(changes, b.changes...), b.nul
	if why := t.checkSize(b.size); why != "" {
		b.rc.Close()
		res.Skip = why + " after the transforms"
		return res, nil
	}
	res.Body, res.Size = &exactSizeReader{rc: b.rc, left: b.size}, b.size
	return res, nil
}

// wireBody is a message as it goes over the wire.
type wireBody struct {
	rc      io.ReadCloser
	size    int64
	nul     bool
	changes []Change
}

// body runs the header edits, the line fix and the wire stage.
func (t *Set) body(m format.Message, edits *HeaderEdits, open Opener) (wireBody, error) {
	// The header edits are pure, so re-applying them to a fresh reader
	// gives the same bytes each time a later stage re-opens the message.
	var changes []Change
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

	src := edited
	var mem []byte
	if m.Size <= smallMessage {
		rc, err := edited()
		if err != nil {
			return wireBody{}, err
		}
		// Sized for what is expected, so that it is read in one buffer.
		buf := bytes.NewBuffer(make([]byte, 0, max(m.Size+delta, 0)+bytes.MinRead))
		_, err = buf.ReadFrom(io.LimitReader(rc, smallMessage+int64(maxHeaderSection)+1))
		mem = buf.Bytes()
		rc.Close()
		if err != nil {
			return wireBody{}, fmt.Errorf("read message: %w", err)
		}
		if int64(len(mem)) != m.Size+delta {
			return wireBody{}, fmt.Errorf("%w: read %d bytes, expected %d", ErrSizeMismatch, len(mem), m.Size+delta)
		}
		src = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(mem)), nil }
	}
	if t.MaxLineLength != 0 {
		fix, err := PlanLineFix(src, t.MaxLineLength)
		if err != nil {
			return wireBody{}, err
		}
		changes = append(changes, fix.Changes...)
		for _, u := range fix.Unfixed {
			changes = append(changes, Change{KindLineLeftLong, "line too long: " + u})
		}
		if fix.Rewrites() {
			b, err := t.spool(fix)
			b.changes = append(changes, b.changes...)
			return b, err
		}
	}

	var scan wireScan
	if mem != nil {
		scan.Write(mem)
		out := mem
		if scan.bareLF > 0 {
			out, _ = appendCRLF(make([]byte, 0, scan.size()), mem, false)
		}
		return wireBody{rc: io.NopCloser(bytes.NewReader(out)), size: scan.size(), nul: scan.nul,
			changes: append(changes, scan.changes()...)}, nil
	}
	if err := scanAll(&scan, src); err != nil {
		return wireBody{}, err
	}
	if scan.n != m.Size+delta {
		return wireBody{}, fmt.Errorf("%w: read %d bytes, expected %d", ErrSizeMismatch, scan.n, m.Size+delta)
	}
	rc, err := src()
	if err != nil {
		return wireBody{}, err
	}
	if scan.bareLF > 0 {
		rc = readCloser{Reader: newCRLFReader(rc), Closer: rc}
	}
	return wireBody{rc: rc, size: scan.size(), nul: scan.nul, changes: append(changes, scan.changes()...)}, nil
}

// scanAll reads the message src opens through scan.
func scanAll(scan *wireScan, src Opener) error {
	rc, err := src()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(scan, rc); err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	return nil
}

// spool writes the message with its lines fixed to a temporary file, line
// endings converted on the way, and returns it to be read from the start.
func (t *Set) spool(fix *LineFix) (wireBody, error) {
	f, err := os.CreateTemp(t.TempDir, "mailferry-message-*")
	if err != nil {
		return wireBody{}, fmt.Errorf("spool re-encoded message: %w", err)
	}
	spool := &spoolFile{f}
	var scan wireScan
	_, err = fix.WriteTo(io.MultiWriter(&scan, &crlfWriter{w: f}))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		spool.Close()
		return wireBody{}, fmt.Errorf("spool re-encoded message: %w", err)
	}
	return wireBody{rc: spool, size: scan.size(), nul: scan.nul, changes: scan.changes()}, nil
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
