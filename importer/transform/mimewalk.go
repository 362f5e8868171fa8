package transform

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// This file walks a message's MIME structure line by line, reading it once
// and, when writing, copying every byte it does not change as it came:
// boundaries, preambles and epilogues included. It recognises boundaries the
// way go-message's multipart reader does, so that what it changes is what
// go-message (and the tests) see as a part.

// errHeaderTooBig stops a walk at a header section over maxHeaderSection.
var errHeaderTooBig = errors.New("a header section is over 1 MiB")

// maxNesting bounds how deep the walk follows multiparts and forwarded
// messages: real mail nests a handful of levels, and a crafted message
// nested a million deep must not exhaust the stack. Deeper bodies are
// copied as they are.
const maxNesting = 64

// boundary is one multipart entity being walked.
type boundary struct {
	dash []byte // "--" and the boundary parameter
	// nl is the line break its delimiter lines end with, fixed by the first
	// one (go-message switches to bare LF when the first ends so).
	nl []byte
	// fresh is true while nothing of the current part's body was read: a
	// delimiter line may then follow the part's header directly.
	fresh bool
}

// heldDelimiter is the delimiter line a read stopped at, for the multipart
// it belongs to.
type heldDelimiter struct {
	level int
	final bool
	// before is the line break ahead of the delimiter line: RFC 2046 makes
	// it part of the delimiter, not of the part before.
	before []byte
	line   []byte // the delimiter line, line break included
	term   []byte
}

// entityPlan is what the writing walk does to one entity.
type entityPlan struct {
	fold           bool
	action         leafAction
	addMIMEVersion bool
}

// linePlan is what the planning walk found, entities numbered in the order
// the walk meets them.
type linePlan struct {
	entities map[int]*entityPlan
	changes  []Change
	unfixed  []string
}

func (p *linePlan) entity(n int) *entityPlan {
	if p.entities[n] == nil {
		p.entities[n] = &entityPlan{}
	}
	return p.entities[n]
}

// mimeWalker walks one message. With out nil it plans: it measures every
// line and records in plan what the writing walk will change. With out set
// it writes the message, changed as plan says.
type mimeWalker struct {
	src     *lineSource
	out     *bufio.Writer
	limit   int
	plan    *linePlan
	stack   []*boundary
	held    *heldDelimiter
	ordinal int
	depth   int
}

func (w *mimeWalker) walk() error {
	if err := w.entity("", true, nil, 0); err != nil {
		return err
	}
	if w.out != nil {
		return w.out.Flush()
	}
	return nil
}

// delimiterAt reports whether a whole line is a delimiter line of one of
// the first levels boundaries, the outermost first (an enclosing part ends
// before anything inside it can).
func (w *mimeWalker) delimiterAt(f fragment, levels int) (level int, final, ok bool) {
	if !f.start || !f.end {
		return 0, false, false
	}
	for j := 0; j < levels; j++ {
		b := w.stack[j]
		if !bytes.HasPrefix(f.data, b.dash) {
			continue
		}
		// After the first part, go-message looks for the delimiter only
		// behind a line break of the kind the first delimiter line had.
		if !b.fresh && b.nl != nil && !bytes.HasSuffix(w.src.prevTerm, b.nl) {
			continue
		}
		rest := f.data[len(b.dash):]
		if len(bytes.TrimLeft(rest, " \t")) == 0 {
			if b.nl == nil && f.term != nil || b.nl != nil && bytes.Equal(f.term, b.nl) {
				return j, false, true
			}
		}
		if bytes.HasPrefix(rest, []byte("--")) && len(bytes.TrimLeft(rest[2:], " \t")) == 0 {
			nl := b.nl
			if nl == nil {
				nl = lineCRLF
			}
			if f.term == nil || bytes.Equal(f.term, nl) {
				return j, true, true
			}
		}
	}
	return 0, false, false
}

// consumed notes that a line was read: no part body is fresh any more.
func (w *mimeWalker) consumed(f fragment) {
	if f.start {
		for _, b := range w.stack {
			b.fresh = false
		}
	}
}

func (w *mimeWalker) hold(level int, final bool, before []byte, f fragment) {
	line := make([]byte, 0, len(f.data)+len(f.term))
	line = append(append(line, f.data...), f.term...)
	w.held = &heldDelimiter{level: level, final: final, before: before, line: line, term: f.term}
}

// headerEnd is what ended a header section.
type headerEnd int

const (
	headerBlank headerEnd = iota // its blank line: a body follows
	headerDelimiter
	headerEOF
)

// readHeader reads a header section, checking the first levels boundaries.
func (w *mimeWalker) readHeader(levels int) ([]byte, headerEnd, error) {
	var section []byte
	for {
		f, err := w.src.next()
		if err == io.EOF {
			return section, headerEOF, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if level, final, ok := w.delimiterAt(f, levels); ok {
			w.consumed(f)
			w.hold(level, final, nil, f)
			return section, headerDelimiter, nil
		}
		w.consumed(f)
		if f.start && f.end && len(f.data) == 0 && f.term != nil {
			return append(section, f.term...), headerBlank, nil
		}
		section = append(append(section, f.data...), f.term...)
		if len(section) > maxHeaderSection {
			return nil, 0, errHeaderTooBig
		}
	}
}

// entity walks a header and its body. num is the entity's IMAP part number
// ("" for the message itself); message is true for a message's header
// (the top, or the body of a message/rfc822 part), false for a MIME part's;
// owner is the multipart the entity is a part of; hdrLevels is how many
// boundaries its header is checked against (a part's header is read by its
// multipart's reader, which only its enclosing ones can cut short).
func (w *mimeWalker) entity(num string, message bool, owner *boundary, hdrLevels int) error {
	ord := w.ordinal
	w.ordinal++
	w.depth++
	defer func() { w.depth-- }()
	section, end, err := w.readHeader(hdrLevels)
	if err != nil {
		return err
	}
	if end == headerBlank && owner != nil {
		owner.fresh = true
	}
	info := inspectHeader(section)
	hlabel := "part " + num + " header"
	blabel := "part " + num
	if message {
		hlabel = "part " + num + " message header"
		blabel = "part " + childPart(num, 1)
		if num == "" {
			hlabel = "header"
		}
	}
	if err := w.header(ord, hlabel, section, message); err != nil {
		return err
	}
	if end != headerBlank {
		return nil
	}
	if w.depth > maxNesting && (info.kind == kindMultipart || info.kind == kindMessage) {
		info.kind, info.why = kindOpaque, fmt.Sprintf("nested deeper than %d levels", maxNesting)
	}
	switch info.kind {
	case kindMultipart:
		return w.multipart(num, info.dash)
	case kindMessage:
		return w.entity(num, true, nil, len(w.stack))
	case kindOpaque:
		return w.copyLines(len(w.stack), blabel+" "+info.mediaType+" ("+info.why+")")
	}
	return w.leaf(ord, blabel+" "+info.mediaType, info, message)
}

func childPart(num string, i int) string {
	if num == "" {
		return fmt.Sprint(i)
	}
	return fmt.Sprintf("%s.%d", num, i)
}

// header plans or writes a header section.
func (w *mimeWalker) header(ord int, label string, section []byte, message bool) error {
	if w.out == nil {
		_, folded, unfixed := foldHeaderSection(section, w.limit, label)
		if len(folded) > 0 {
			w.plan.entity(ord).fold = true
			for _, f := range folded {
				w.plan.changes = append(w.plan.changes, Change{KindHeaderFolded, f})
			}
		}
		w.plan.unfixed = append(w.plan.unfixed, unfixed...)
		return nil
	}
	if p := w.plan.entities[ord]; p != nil {
		if p.fold {
			section, _, _ = foldHeaderSection(section, w.limit, label)
		}
		if p.action == actionQuotedPrint {
			section = setQuotedPrintable(section, p.addMIMEVersion)
		}
	}
	_, err := w.out.Write(section)
	return err
}

// multipart walks a multipart body: preamble, parts, epilogue.
func (w *mimeWalker) multipart(num string, dash []byte) error {
	b := &boundary{dash: dash}
	w.stack = append(w.stack, b)
	k := len(w.stack) - 1
	pop := func() { w.stack = w.stack[:k] }
	label := "part " + num
	if num == "" {
		label = "message"
	}
	if err := w.copyLines(k+1, "preamble of "+label); err != nil {
		return err
	}
	for i := 1; ; i++ {
		h := w.held
		if h == nil || h.level < k {
			pop()
			return nil
		}
		w.held = nil
		if b.nl == nil {
			b.nl = h.term
		}
		if err := w.writeDelimiter(h, label); err != nil {
			return err
		}
		if h.final {
			pop()
			return w.copyLines(k, "epilogue of "+label)
		}
		if err := w.entity(childPart(num, i), false, b, k); err != nil {
			return err
		}
	}
}

func (w *mimeWalker) writeDelimiter(h *heldDelimiter, label string) error {
	if w.out == nil {
		if n := len(h.line) - len(h.term); n > w.limit {
			w.plan.unfixed = append(w.plan.unfixed, fmt.Sprintf("boundary line of %d bytes in %s left as is", n, label))
		}
		return nil
	}
	if _, err := w.out.Write(h.before); err != nil {
		return err
	}
	_, err := w.out.Write(h.line)
	return err
}

// copyLines copies a body nothing can fix (a preamble, an epilogue, an
// opaque part) and, while planning, notes its long lines.
func (w *mimeWalker) copyLines(levels int, label string) error {
	c := &contentReader{w: w, levels: levels}
	if w.out != nil {
		_, err := io.Copy(w.out, c)
		return err
	}
	m := &lineMeter{limit: w.limit}
	if _, err := io.Copy(m, c); err != nil {
		return err
	}
	m.finish()
	if m.long > 0 {
		w.plan.unfixed = append(w.plan.unfixed, fmt.Sprintf("%s: %s left as is", label, m.describe()))
	}
	return nil
}

// leaf plans or writes a body that can be re-encoded.
func (w *mimeWalker) leaf(ord int, label string, info entityInfo, message bool) error {
	c := &contentReader{w: w, levels: len(w.stack)}
	action := actionFor(info.cte)
	if w.out == nil {
		return w.planLeaf(ord, label, info, message, c, action)
	}
	p := w.plan.entities[ord]
	if p == nil || p.action == actionNone {
		_, err := io.Copy(w.out, c)
		return err
	}
	var enc io.WriteCloser
	switch p.action {
	case actionQuotedPrint:
		enc = newQPEncoder(w.out, w.src.lineBreak())
	case actionRewrapQP:
		enc = newRewrapper(w.out, w.limit, true, w.src.lineBreak())
	case actionRewrapBase64:
		enc = newRewrapper(w.out, w.limit, false, w.src.lineBreak())
	}
	if _, err := io.Copy(enc, c); err != nil {
		return err
	}
	return enc.Close()
}

func (w *mimeWalker) planLeaf(ord int, label string, info entityInfo, message bool, c io.Reader, action leafAction) error {
	m := &lineMeter{limit: w.limit}
	var after *lineMeter
	var dst io.Writer = m
	var rw *rewrapper
	if action == actionRewrapQP || action == actionRewrapBase64 {
		// Wrap alongside, to learn whether wrapping fixes every line.
		after = &lineMeter{limit: w.limit}
		rw = newRewrapper(after, w.limit, action == actionRewrapQP, w.src.lineBreak())
		dst = io.MultiWriter(m, rw)
	}
	if _, err := io.Copy(dst, c); err != nil {
		return err
	}
	m.finish()
	if m.long == 0 {
		return nil
	}
	switch action {
	case actionCannotEncode:
		w.plan.unfixed = append(w.plan.unfixed, fmt.Sprintf("%s: %s left as is: unknown Content-Transfer-Encoding %q", label, m.describe(), info.cte))
		return nil
	case actionQuotedPrint:
		was := info.cte
		if was == "" {
			was = "no Content-Transfer-Encoding"
		}
		w.plan.changes = append(w.plan.changes, Change{KindLineReencoded, fmt.Sprintf("%s: %s re-encoded as quoted-printable (was %s)", label, m.describe(), was)})
		p := w.plan.entity(ord)
		p.action, p.addMIMEVersion = actionQuotedPrint, message
		return nil
	}
	if err := rw.Close(); err != nil {
		return err
	}
	after.finish()
	how := "re-wrapped as base64 at 76 characters"
	if action == actionRewrapQP {
		how = "re-wrapped with quoted-printable soft line breaks at 76 characters"
	}
	if after.long < m.long {
		w.plan.changes = append(w.plan.changes, Change{KindLineRewrapped, fmt.Sprintf("%s: %s %s", label, m.describe(), how)})
		w.plan.entity(ord).action = action
	}
	if after.long > 0 {
		w.plan.unfixed = append(w.plan.unfixed, fmt.Sprintf("%s: %s with no place to break left as is", label, after.describe()))
	}
	return nil
}

// contentReader reads a body up to the next delimiter line of the first
// levels boundaries, or the end of input. The line break before a delimiter
// line is not the body's: it is left in the walker's held delimiter.
type contentReader struct {
	w       *mimeWalker
	levels  int
	pend    []byte // line break of the last line read, held back
	buf     []byte
	scratch []byte
	done    bool
}

func (c *contentReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func (c *contentReader) fill() error {
	f, err := c.w.src.next()
	if err == io.EOF {
		c.buf, c.pend, c.done = c.pend, nil, true
		return nil
	}
	if err != nil {
		return err
	}
	if level, final, ok := c.w.delimiterAt(f, c.levels); ok {
		c.w.consumed(f)
		keep, give := c.pend, []byte(nil)
		if nl := c.w.stack[level].nl; nl == nil {
			keep, give = nil, c.pend
		} else if bytes.HasSuffix(c.pend, nl) {
			keep, give = c.pend[:len(c.pend)-len(nl)], nl
		}
		c.w.hold(level, final, give, f)
		c.buf, c.pend, c.done = keep, nil, true
		return nil
	}
	c.w.consumed(f)
	c.scratch = append(append(c.scratch[:0], c.pend...), f.data...)
	c.buf, c.pend = c.scratch, f.term
	return nil
}
