package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// Bounds on a raw LIST: a name longer than maxRawName is reported rather
// than recorded (servers allow a few hundred bytes), and a server that
// lists more than maxRawFolders folders is refused.
const (
	maxRawName    = 1024
	maxRawFolders = 100_000
)

// rawListed is one LIST response as the server sent it.
type rawListed struct {
	name  string // as sent, modified UTF-7 or not
	delim rune
	attrs []imap.MailboxAttr
}

// listRaw lists every folder on a RawConn, for when go-imap (v2 beta.8)
// could not: it fails the whole LIST on a name that is not valid modified
// UTF-7. Such a name is kept as the server sent it (format.Folder.RawName)
// when it is UTF-8, and reported as a failure otherwise. The names kept so
// are noted in s.rawNames, which sentRaw asks.
func (s *imapSource) listRaw(ctx context.Context) ([]format.Folder, bool, []Failure, error) {
	if s.cfg.DialRaw == nil {
		return nil, false, nil, fmt.Errorf("LIST: a folder name is not valid modified UTF-7, and this source cannot list it raw")
	}
	var listed []rawListed
	var extended bool
	var conn mailconn.Redial[*mailconn.RawConn]
	defer conn.Drop()
	err := conn.Do(ctx, mailconn.Link[*mailconn.RawConn]{Dial: s.cfg.DialRaw}, s.cfg.Retries, func(c *mailconn.RawConn) error {
		var err error
		listed, extended, err = rawList(c)
		return err
	})
	if err != nil {
		return nil, false, nil, fmt.Errorf("LIST: %w", err)
	}
	list, raw, failures := decodeListed(listed)
	folders := foldersOf(list, extended)
	for i := range folders {
		folders[i].RawName = raw[folders[i].Name]
	}
	s.rawNames = raw
	return folders, extended, failures, nil
}

// sentRaw reports whether a folder that go-imap listed but could not
// EXAMINE (err) was listed under a name in raw 8-bit UTF-8, as some
// servers do without UTF8=ACCEPT: go-imap reads it as the text it is,
// then sends it back modified UTF-7 encoded, a name such a server does not
// know. The raw LIST that tells runs only then, once per export, so that
// accounts whose folders go-imap opens pay no connection for it.
func (s *imapSource) sentRaw(ctx context.Context, name string, err error) bool {
	if !errors.As(err, new(*imap.Error)) || s.cfg.DialRaw == nil || isASCII(name) {
		return false
	}
	if s.rawNames == nil {
		if _, _, _, err := s.listRaw(ctx); err != nil {
			s.rawNames = map[string]bool{} // not tried again
			slog.Warn("cannot list folders raw to open those go-imap cannot", "folder", name, "error", err)
		}
	}
	return s.rawNames[name]
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// rawList runs LIST "" "*", asking for subscriptions and special use
// where the server can tell them, as listPattern does.
func rawList(c *mailconn.RawConn) ([]rawListed, bool, error) {
	caps := c.Caps()
	extended := caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)
	args := []mailconn.Arg{mailconn.Astring(""), mailconn.Astring("*")}
	if extended {
		ret := "RETURN (SUBSCRIBED)"
		if caps.Has(imap.CapSpecialUse) {
			ret = "RETURN (SUBSCRIBED SPECIAL-USE)"
		}
		args = append(args, mailconn.Atom(ret))
	}
	var listed []rawListed
	err := c.Run(func() error {
		l, ok, err := readListResponse(c)
		if ok && err == nil {
			if len(listed) >= maxRawFolders {
				return fmt.Errorf("%w: more than %d folders", mailconn.ErrServerLimit, maxRawFolders)
			}
			listed = append(listed, l)
		}
		return err
	}, "LIST", args...)
	return listed, extended, err
}

// readListResponse reads an untagged response after its "*": ok is false
// when it is not LIST.
func readListResponse(c *mailconn.RawConn) (l rawListed, ok bool, err error) {
	t, err := c.Next()
	if err != nil || t.Kind != mailconn.TokenAtom || !strings.EqualFold(t.Text, "LIST") {
		return l, false, err
	}
	if l.attrs, err = readAtomList[imap.MailboxAttr](c, nil); err != nil {
		return l, false, fmt.Errorf("LIST attributes: %w", err)
	}
	delim, err := readString(c, true)
	if err != nil {
		return l, false, fmt.Errorf("LIST delimiter: %w", err)
	}
	if delim != "" {
		r, size := utf8.DecodeRuneInString(delim)
		if size != len(delim) {
			return l, false, fmt.Errorf("LIST delimiter %q is not one character", delim)
		}
		l.delim = r
	}
	if l.name, err = readString(c, false); err != nil {
		return l, false, fmt.Errorf("LIST name: %w", err)
	}
	return l, true, nil
}

// decodeListed turns raw LIST responses into go-imap's form for
// foldersOf: names modified UTF-7 decoded where they are valid and spelt
// the one way their decoding re-encodes to (go-imap then reaches them),
// else as sent (raw holds those). A name that is neither, too long, or
// that reads like another folder's decoded name is a failure.
func decodeListed(listed []rawListed) ([]*imap.ListData, map[string]bool, []Failure) {
	decoded := map[string]bool{}
	for _, l := range listed {
		if name, err := format.DecodeMUTF7(l.name); err == nil && format.EncodeMUTF7(name) == l.name {
			decoded[name] = true
		}
	}
	var list []*imap.ListData
	var failures []Failure
	raw := map[string]bool{}
	for _, l := range listed {
		name, err := format.DecodeMUTF7(l.name)
		isRaw := err != nil || format.EncodeMUTF7(name) != l.name
		switch {
		case strings.EqualFold(l.name, "INBOX"):
			name, isRaw = "INBOX", false
		case !isRaw:
		case len(l.name) > maxRawName:
			failures = append(failures, Failure{Folder: format.QuoteName(l.name), Error: fmt.Sprintf("folder name of %d bytes, over the %d this export takes", len(l.name), maxRawName)})
			continue
		case !utf8.ValidString(l.name):
			failures = append(failures, Failure{Folder: format.QuoteName(l.name), Error: "folder name is neither modified UTF-7 nor UTF-8, so no snapshot can record it as it is"})
			continue
		case decoded[l.name]:
			failures = append(failures, Failure{Folder: format.QuoteName(l.name), Error: "folder name is not valid modified UTF-7, and kept as sent it reads like another folder's name"})
			continue
		default:
			name = l.name
		}
		raw[name] = isRaw
		list = append(list, &imap.ListData{Mailbox: name, Delim: l.delim, Attrs: l.attrs})
	}
	return list, raw, failures
}

// readAtomList reads a parenthesized list of atoms (LIST attributes,
// FLAGS) as T. The first token is t, or read when t is nil.
func readAtomList[T ~string](c *mailconn.RawConn, t *mailconn.Token) ([]T, error) {
	if t == nil {
		next, err := c.Next()
		if err != nil {
			return nil, err
		}
		t = &next
	}
	if t.Kind != mailconn.TokenOpen {
		return nil, fmt.Errorf("expected a list, got %v", t.Kind)
	}
	var atoms []T
	for {
		t, err := c.Next()
		switch {
		case err != nil:
			return nil, err
		case t.Kind == mailconn.TokenClose:
			return atoms, nil
		case t.Kind != mailconn.TokenAtom:
			return nil, fmt.Errorf("expected an atom in a list, got %v", t.Kind)
		}
		// Bounded by the response's length (mailconn's maxLineLength).
		atoms = append(atoms, T(t.Text))
	}
}

// readString reads an astring (an atom, a quoted string or a literal);
// with nilOK, NIL reads as "".
func readString(c *mailconn.RawConn, nilOK bool) (string, error) {
	t, err := c.Next()
	switch {
	case err != nil:
		return "", err
	case t.Kind == mailconn.TokenString:
		return t.Text, nil
	case t.Kind == mailconn.TokenLiteral:
		return c.LiteralText()
	case t.Kind == mailconn.TokenAtom && nilOK && strings.EqualFold(t.Text, "NIL"):
		return "", nil
	case t.Kind == mailconn.TokenAtom:
		return t.Text, nil
	}
	return "", fmt.Errorf("expected a string, got %v", t.Kind)
}
