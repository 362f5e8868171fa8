package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// rawSelected is what EXAMINE on a RawConn tells of a folder.
type rawSelected struct {
	exists, uidValidity, uidNext uint32
	flags, permanentFlags        []string
}

// rawExamine selects the folder named as the server sent it, read-only.
func rawExamine(c *mailconn.RawConn, name string) (rawSelected, error) {
	var sel rawSelected
	err := c.Run(func() error {
		t, err := c.Next()
		if err != nil || t.Kind != mailconn.TokenAtom {
			return err
		}
		switch word := strings.ToUpper(t.Text); {
		case word == "FLAGS":
			sel.flags, err = readAtomList[string](c, nil)
			return err
		case word == "OK":
			text, err := c.Rest()
			sel.readCode(text)
			return err
		}
		if n, err := strconv.ParseUint(t.Text, 10, 32); err == nil {
			if t, err := c.Next(); err == nil && strings.EqualFold(t.Text, "EXISTS") {
				sel.exists = uint32(n)
			}
		}
		return nil
	}, "EXAMINE", mailconn.Astring(name))
	if err != nil {
		return sel, fmt.Errorf("EXAMINE: %w", err)
	}
	return sel, nil
}

// readCode takes UIDVALIDITY, UIDNEXT and PERMANENTFLAGS from the
// response code of an untagged OK: " [UIDVALIDITY 7] text".
func (sel *rawSelected) readCode(text string) {
	code, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(text), "["), "]")
	word, arg, _ := strings.Cut(code, " ")
	switch strings.ToUpper(word) {
	case "UIDVALIDITY":
		n, _ := strconv.ParseUint(arg, 10, 32)
		sel.uidValidity = uint32(n)
	case "UIDNEXT":
		n, _ := strconv.ParseUint(arg, 10, 32)
		sel.uidNext = uint32(n)
	case "PERMANENTFLAGS":
		if i := strings.LastIndexByte(code, ')'); i > 0 {
			// The code was cut at its first "]", which flags lack.
			sel.permanentFlags = strings.Fields(strings.TrimPrefix(code[len(word)+1:i], "("))
		}
	}
}

// rawFetched is one FETCH response on a RawConn.
type rawFetched struct {
	uid     uint32
	flags   []string
	date    time.Time
	dateErr error
	size    int64
}

// readFetch reads an untagged response after its "*"; ok is false when it
// is not FETCH. A BODY[] literal goes to body (if nil, it is skipped),
// with the UID if it came before.
func readFetch(c *mailconn.RawConn, body func(uid uint32, r io.Reader) error) (f rawFetched, ok bool, err error) {
	t, err := c.Next()
	if err != nil || t.Kind != mailconn.TokenAtom {
		return f, false, err
	}
	if _, perr := strconv.ParseUint(t.Text, 10, 32); perr != nil {
		return f, false, nil
	}
	if t, err = c.Next(); err != nil || !strings.EqualFold(t.Text, "FETCH") {
		return f, false, err
	}
	if t, err = c.Next(); err != nil || t.Kind != mailconn.TokenOpen {
		return f, false, fmtErr(err, "FETCH: expected a list, got %v", t.Kind)
	}
	for {
		name, err := c.Next()
		switch {
		case err != nil:
			return f, false, err
		case name.Kind == mailconn.TokenClose:
			return f, true, nil
		case name.Kind != mailconn.TokenAtom:
			return f, false, fmt.Errorf("FETCH: expected an item name, got %v", name.Kind)
		}
		if err := f.readItem(c, strings.ToUpper(name.Text), body); err != nil {
			return f, false, fmt.Errorf("FETCH %s: %w", name.Text, err)
		}
	}
}

// fmtErr returns err, or when it is nil the error format describes.
func fmtErr(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return fmt.Errorf(format, args...)
}

// readItem reads the value of the FETCH item name.
func (f *rawFetched) readItem(c *mailconn.RawConn, name string, body func(uint32, io.Reader) error) error {
	t, err := c.Next()
	if err != nil {
		return err
	}
	switch {
	case name == "UID" || name == "RFC822.SIZE":
		n, err := strconv.ParseUint(t.Text, 10, 32)
		if t.Kind != mailconn.TokenAtom || err != nil {
			return fmt.Errorf("not a number: %q", t.Text)
		}
		if name == "UID" {
			f.uid = uint32(n)
		} else {
			f.size = int64(n)
		}
	case name == "FLAGS":
		if f.flags, err = readAtomList[string](c, &t); err != nil {
			return err
		}
	case name == "INTERNALDATE":
		f.date, f.dateErr = time.Parse("_2-Jan-2006 15:04:05 -0700", t.Text)
		if t.Kind != mailconn.TokenString {
			f.dateErr = fmt.Errorf("INTERNALDATE is a %v", t.Kind)
		}
	case t.Kind == mailconn.TokenLiteral && strings.HasPrefix(name, "BODY[") && body != nil:
		return body(f.uid, c.Literal())
	default:
		return skipValue(c, t)
	}
	return nil
}

// skipValue reads past a value whose first token is t: one token, or a
// list with what it nests (bounded by the response's length).
func skipValue(c *mailconn.RawConn, t mailconn.Token) error {
	depth := 0
	for {
		switch t.Kind {
		case mailconn.TokenOpen:
			depth++
		case mailconn.TokenClose:
			depth--
		case mailconn.TokenEnd:
			return fmt.Errorf("response ends inside a value")
		}
		if depth <= 0 {
			return nil
		}
		var err error
		if t, err = c.Next(); err != nil {
			return err
		}
	}
}

// rawFetchMeta reads UID, FLAGS, RFC822.SIZE and INTERNALDATE of every
// message of the folder selected on c, in UID order, as fetchMeta does on
// go-imap. A server that answers with more messages than the folder holds
// (and some slack) is refused.
func rawFetchMeta(c *mailconn.RawConn, exists uint32) ([]Item, error) {
	if exists == 0 {
		return nil, nil
	}
	var items []Item
	seen := map[uint32]int{}
	limit := 2*int(exists) + 10_000
	err := c.Run(func() error {
		m, ok, err := readFetch(c, nil)
		if !ok || err != nil || m.uid == 0 {
			return err
		}
		if len(seen) >= limit {
			return fmt.Errorf("%w: over %d messages in a folder of %d", mailconn.ErrServerLimit, limit, exists)
		}
		it := Item{UID: m.uid, Name: fmt.Sprintf("uid %d", m.uid), Size: m.size,
			Flags: format.NormalizeFlags(m.flags), InternalDate: m.date}
		if m.dateErr != nil {
			it.InternalDate = time.Time{}
			it.Warning = fmt.Sprintf("INTERNALDATE cannot be read (%v); the date is taken from the message's headers", m.dateErr)
		}
		if i, dup := seen[m.uid]; dup {
			items[i] = it
			return nil
		}
		seen[m.uid] = len(items)
		items = append(items, it)
		return nil
	}, "UID FETCH", mailconn.Atom("1:*"), mailconn.Atom("(UID FLAGS INTERNALDATE RFC822.SIZE)"))
	if err != nil {
		return nil, fmt.Errorf("FETCH metadata: %w", err)
	}
	return items, nil
}
