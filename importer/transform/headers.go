package transform

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrHeaderSpec is wrapped by every error about a --add-header,
// --remove-header or --rename-header value.
var ErrHeaderSpec = errors.New("invalid header option")

// HeaderEdits are the header transforms: read-receipt disarming (imapsync's
// --disarmreadreceipts), --remove-header, --rename-header and --add-header.
// They touch the header section only; every other byte of the message, line
// breaks included, stays as it was.
type HeaderEdits struct {
	// DisarmReadReceipts renames Disposition-Notification-To and
	// Return-Receipt-To to X-Disposition-Notification-To and
	// X-Return-Receipt-To. Exchange and Office 365 send a read receipt for
	// every imported message that asks for one, years after it was read.
	DisarmReadReceipts bool
	// Remove names fields to remove, continuation lines included.
	Remove []string
	// Rename renames fields, keeping their values byte for byte.
	Rename []HeaderRename
	// Add are fields put at the top of the header section, in this order,
	// where trace fields go (RFC 5322 section 3.6.7).
	Add []HeaderAdd
}

// HeaderRename is one --rename-header 'OLD:NEW'.
type HeaderRename struct {
	From, To string
}

// HeaderAdd is one --add-header 'Name: value'.
type HeaderAdd struct {
	Name, Value string
}

// readReceiptFields are the fields that make a client or server send a read
// receipt: RFC 8098's and the older one Outlook still honours.
var readReceiptFields = []string{"Disposition-Notification-To", "Return-Receipt-To"}

// ParseHeaderAdd reads --add-header 'Name: value'. The value may not hold a
// line break: one would let the option add fields nobody asked for.
func ParseHeaderAdd(spec string) (HeaderAdd, error) {
	name, value, ok := strings.Cut(spec, ":")
	if !ok {
		return HeaderAdd{}, fmt.Errorf("%w --add-header %q: no colon between name and value", ErrHeaderSpec, spec)
	}
	name = strings.TrimSpace(name)
	if err := checkFieldName(name); err != nil {
		return HeaderAdd{}, fmt.Errorf("%w --add-header %q: %w", ErrHeaderSpec, spec, err)
	}
	value = strings.TrimLeft(value, " \t")
	if strings.ContainsAny(value, "\r\n\x00") {
		return HeaderAdd{}, fmt.Errorf("%w --add-header %q: the value holds a line break or NUL", ErrHeaderSpec, spec)
	}
	return HeaderAdd{Name: name, Value: value}, nil
}

// ParseHeaderRename reads --rename-header 'OLD:NEW'. A field name cannot
// hold a colon, so the split is never ambiguous.
func ParseHeaderRename(spec string) (HeaderRename, error) {
	from, to, ok := strings.Cut(spec, ":")
	if !ok {
		return HeaderRename{}, fmt.Errorf("%w --rename-header %q: no colon between OLD and NEW", ErrHeaderSpec, spec)
	}
	r := HeaderRename{From: strings.TrimSpace(from), To: strings.TrimSpace(to)}
	for _, n := range []string{r.From, r.To} {
		if err := checkFieldName(n); err != nil {
			return HeaderRename{}, fmt.Errorf("%w --rename-header %q: %w", ErrHeaderSpec, spec, err)
		}
	}
	return r, nil
}

// ParseHeaderRemove checks a --remove-header name.
func ParseHeaderRemove(name string) (string, error) {
	n := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(name), ":"))
	if err := checkFieldName(n); err != nil {
		return "", fmt.Errorf("%w --remove-header %q: %w", ErrHeaderSpec, name, err)
	}
	return n, nil
}

// checkFieldName applies RFC 5322's field-name: printable ASCII but colon.
func checkFieldName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header name %q holds %q; names are printable ASCII without colon", name, c)
		}
	}
	return nil
}

// IsZero reports whether e changes nothing.
func (e *HeaderEdits) IsZero() bool {
	return !e.DisarmReadReceipts && len(e.Remove) == 0 && len(e.Rename) == 0 && len(e.Add) == 0
}

// Apply edits the header section of the message r reads and returns a reader
// over the edited message and what changed. It reads only the header section
// into memory; the body streams from r as the returned reader is read. A
// header section over 1 MiB is passed on untouched, and the change list
// says so.
func (e *HeaderEdits) Apply(r io.Reader) (io.Reader, []Change, error) {
	out, _, changes, err := e.apply(r)
	return out, changes, err
}

// apply is Apply that also returns how many bytes longer (or shorter) the
// message got: the importer needs the size before it sends the first byte.
func (e *HeaderEdits) apply(r io.Reader) (out io.Reader, delta int64, changes []Change, err error) {
	if e.IsZero() {
		return r, 0, nil, nil
	}
	br := bufio.NewReader(r)
	section, tooBig, err := readHeaderSection(br, maxHeaderSection)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read header section: %w", err)
	}
	if tooBig {
		return io.MultiReader(bytes.NewReader(section), br), 0,
			[]Change{{KindHeaderNotEdited, "header edits not applied: the header section is over 1 MiB"}}, nil
	}
	edited, changes := e.edit(section)
	return io.MultiReader(bytes.NewReader(edited), br), int64(len(edited) - len(section)), changes, nil
}

// edit applies the edits to a whole header section.
func (e *HeaderEdits) edit(section []byte) ([]byte, []Change) {
	fields, tail := splitHeader(section)
	nl := sectionLineBreak(section)
	var added []byte
	var changes []Change
	for _, a := range e.Add {
		added = append(added, a.Name+": "+a.Value...)
		added = append(added, nl...)
		changes = append(changes, Change{KindHeaderAdded, "added header " + a.Name})
	}

	// One change per edit and name, however the fields spell it.
	counts := map[string]int{}
	var order []string
	var notes []Change
	note := func(kind Kind, s string) {
		k := strings.ToLower(s)
		if counts[k] == 0 {
			order, notes = append(order, k), append(notes, Change{kind, s})
		}
		counts[k]++
	}
	out := make([]byte, 0, len(section)+len(added)+64)
	// Added fields go before the first field that starts a line of its
	// own: put before a section that begins with a blank (malformed), they
	// would make that blank line their continuation.
	inserted := len(added) == 0
	for _, f := range fields {
		if !inserted && !isWSP(f.raw[0]) {
			out = append(out, added...)
			inserted = true
		}
		if e.removes(f.name) {
			note(KindHeaderRemoved, "removed header "+f.name)
			continue
		}
		if to, why := e.renames(f.name); to != "" {
			out = append(out, to...)
			out = append(out, f.raw[len(f.name):]...)
			kind := KindHeaderRenamed
			if why != "" {
				kind = KindReadReceiptDisarmed
			}
			note(kind, "renamed header "+f.name+" to "+to+why)
			continue
		}
		out = append(out, f.raw...)
	}
	if !inserted {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, nl...)
		}
		out = append(out, added...)
	}
	out = append(out, tail...)
	for i, c := range notes {
		if n := counts[order[i]]; n > 1 {
			c.Detail = fmt.Sprintf("%s (%d fields)", c.Detail, n)
		}
		changes = append(changes, c)
	}
	return out, changes
}

func (e *HeaderEdits) removes(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range e.Remove {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}

// renames returns the new name for a field, "" when it keeps its own, and
// why when it is a read receipt being disarmed.
func (e *HeaderEdits) renames(name string) (to, why string) {
	if name == "" {
		return "", ""
	}
	for _, r := range e.Rename {
		if strings.EqualFold(r.From, name) {
			return r.To, ""
		}
	}
	if e.DisarmReadReceipts {
		for _, rr := range readReceiptFields {
			if strings.EqualFold(rr, name) {
				return "X-" + name, " (read receipt disarmed)"
			}
		}
	}
	return "", ""
}
