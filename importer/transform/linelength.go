package transform

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// MinLineLimit is the smallest line limit FixLongLines works to: RFC 5322's
// recommended 78. Re-encoded lines are up to 76 characters, so below that a
// fix could not hold.
const MinLineLimit = 78

// ErrLineLimit is returned for a line limit below MinLineLimit.
var ErrLineLimit = errors.New("line limit too small")

// Opener opens a message from its first byte. Every call returns a
// fresh reader over the same bytes; the caller closes it. The importer
// passes one that reads the blob from the archive again (and re-applies the
// header edits), so that a transform can read a 50 MB message twice instead
// of holding it.
type Opener func() (io.ReadCloser, error)

// LineFix is FixLongLines' plan for one message: what rewriting it changes
// and which long lines it cannot fix. Lines are counted in bytes without
// their line break.
//
// How each case is handled, so that every part decodes to the same bytes
// as before (checked with go-message in the tests):
//   - a long line in a header section (a huge References, the message's or
//     a part's) is folded at whitespace, which unfolding undoes;
//   - a 7bit, 8bit, binary or unlabelled leaf part with a long line is
//     re-encoded as quoted-printable, its Content-Transfer-Encoding changed
//     (and MIME-Version: 1.0 added to a message that had none);
//   - a quoted-printable part gets soft line breaks in its long lines, a
//     base64 part line breaks: both decode to the same bytes, no decoding
//     needed;
//   - multipart bodies are walked, message/rfc822 parts too (they may not be
//     re-encoded, RFC 2046 section 5.2.1, but their parts can);
//   - a preamble, epilogue, boundary line, a part with an unknown
//     Content-Transfer-Encoding, message/partial or external-body, and a
//     header line without whitespace cannot be fixed without changing what
//     they mean: they are left as they are and listed in Unfixed.
//
// Lines are never cut blindly, and every byte of the parts not listed in
// Changes is copied as it was, boundaries, preamble and epilogue included.
type LineFix struct {
	Limit int
	// Changes lists what WriteTo changes, one per header field or part,
	// e.g. "part 1.2 text/html: 1 line of 20000 bytes re-encoded as
	// quoted-printable (was 7bit)". Empty when no line is over Limit.
	Changes []Change
	// Unfixed lists the long lines WriteTo leaves as they are, and why.
	Unfixed []string

	open Opener
	plan *linePlan
}

// PlanLineFix reads the message open opens and plans how to fix its lines
// over limit bytes. Memory is bounded whatever the message's size: it reads
// the message through open at most twice here (a quick scan for long lines,
// then, only when there are some, a walk of the MIME structure) and holds
// one header section (at most 1 MiB), 64 KiB of a line, and a line up to
// limit bytes of a part being re-wrapped. WriteTo reads it once more.
func PlanLineFix(open Opener, limit int) (*LineFix, error) {
	if limit < MinLineLimit {
		return nil, fmt.Errorf("%w: %d bytes, the least is %d", ErrLineLimit, limit, MinLineLimit)
	}
	fix := &LineFix{Limit: limit, open: open}
	long, err := hasLongLine(open, limit)
	if err != nil || !long {
		return fix, err
	}
	plan := &linePlan{entities: map[int]*entityPlan{}}
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	defer rc.Close()
	w := &mimeWalker{src: newLineSource(rc), limit: limit, plan: plan}
	switch err := w.walk(); {
	case errors.Is(err, errHeaderTooBig):
		fix.Unfixed = []string{"long lines left as is: " + err.Error()}
		return fix, nil
	case err != nil:
		return nil, fmt.Errorf("read message: %w", err)
	}
	fix.Changes, fix.Unfixed = plan.changes, plan.unfixed
	if len(fix.Changes) > 0 {
		fix.plan = plan
	}
	return fix, nil
}

// Rewrites reports whether WriteTo changes any byte.
func (f *LineFix) Rewrites() bool { return f.plan != nil }

// WriteTo writes the message with its long lines fixed as planned; when
// nothing is to change, the bytes exactly as they are.
func (f *LineFix) WriteTo(dst io.Writer) (int64, error) {
	rc, err := f.open()
	if err != nil {
		return 0, fmt.Errorf("open message: %w", err)
	}
	defer rc.Close()
	cw := &countingWriter{w: dst}
	if f.plan == nil {
		_, err := io.Copy(cw, rc)
		return cw.n, err
	}
	w := &mimeWalker{src: newLineSource(rc), out: bufio.NewWriterSize(cw, 64<<10), limit: f.Limit, plan: f.plan}
	if err := w.walk(); err != nil {
		return cw.n, fmt.Errorf("rewrite long lines: %w", err)
	}
	return cw.n, nil
}

// FixLongLines writes to dst the message open opens with its lines over
// limit bytes fixed (see LineFix), and returns the plan it followed. A
// message with no such line is copied unchanged and the plan lists nothing.
func FixLongLines(dst io.Writer, open Opener, limit int) (*LineFix, error) {
	fix, err := PlanLineFix(open, limit)
	if err != nil {
		return nil, err
	}
	if _, err := fix.WriteTo(dst); err != nil {
		return nil, err
	}
	return fix, nil
}

// hasLongLine reads the message once and reports whether a line is over
// limit: most messages have none and need no MIME walk.
func hasLongLine(open Opener, limit int) (bool, error) {
	rc, err := open()
	if err != nil {
		return false, fmt.Errorf("open message: %w", err)
	}
	defer rc.Close()
	m := &lineMeter{limit: limit}
	if _, err := io.Copy(m, rc); err != nil {
		return false, fmt.Errorf("read message: %w", err)
	}
	m.finish()
	return m.long > 0, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
