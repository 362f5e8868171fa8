package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/pop3"
)

// POP3Config says how to reach a POP3 maildrop.
type POP3Config struct {
	// Endpoint is the source's URL without credentials, as recorded.
	Endpoint string
	// UserHost is USER@HOST; the default account name is
	// POP3Account(UserHost).
	UserHost string
	// Dial opens a logged-in session; called again after a drop.
	Dial    func(ctx context.Context) (*pop3.Client, error)
	Retries int
}

// POP3Account is the account name a POP3 export of userHost (USER@HOST) is
// recorded under unless the user names one: apart from the IMAP account of
// the same user, since POP3 sees INBOX only and must never pass for the
// latest snapshot of the whole mailbox (format/SPEC.md, "Account").
func POP3Account(userHost string) string { return "pop3:" + userHost }

// pop3Folder is the one folder a POP3 maildrop has.
const pop3Folder = "INBOX"

// pop3Source reads a POP3 maildrop as one folder, INBOX. Messages are
// recognised by UIDL across runs (a server without UIDL is handled by
// content: everything is downloaded, nothing is stored twice). The
// maildrop is never changed, unless DeleteExported is called.
type pop3Source struct {
	cfg   POP3Config
	s     *pop3Session
	items []Item
}

// NewPOP3Source returns the maildrop cfg describes as a Source.
func NewPOP3Source(cfg POP3Config) DeleterAfterExport {
	if cfg.Retries <= 0 {
		cfg.Retries = 6
	}
	return &pop3Source{cfg: cfg, s: &pop3Session{dial: cfg.Dial, retries: cfg.Retries}}
}

func (p *pop3Source) Describe() format.Source {
	return format.Source{Kind: format.SourcePOP3, Endpoint: p.cfg.Endpoint}
}

func (p *pop3Source) DefaultAccount() string { return POP3Account(p.cfg.UserHost) }

func (p *pop3Source) Close() { p.s.close() }

// List reads the maildrop's listing, which Examine then gives out.
func (p *pop3Source) List(ctx context.Context) (Listing, error) {
	var uidls []pop3.MessageUID
	var sizes map[int]int64
	var hasUIDL bool
	err := p.s.do(ctx, func(c *pop3.Client) error {
		var err error
		uidls, sizes, hasUIDL, err = listMaildrop(ctx, c)
		return err
	})
	if err != nil {
		return Listing{}, err
	}
	l := Listing{Folders: []format.Folder{{Name: pop3Folder, Subscribed: true}}}
	if !hasUIDL {
		l.Warnings = append(l.Warnings, "the server has no UIDL: every message is downloaded, and recognised by its content")
	}
	if n := distinctUIDLs(uidls); n > 0 {
		l.Warnings = append(l.Warnings, fmt.Sprintf("the server repeats UIDLs (%d messages share another's): each repeat is recorded as UIDL \"<uidl> #<occurrence>\", which tells them apart as long as the maildrop keeps its order", n))
	}
	p.items = p.items[:0]
	for _, m := range uidls {
		p.items = append(p.items, Item{UID: uint32(m.Number), UIDL: m.UID, Size: sizes[m.Number],
			Name: fmt.Sprintf("message %d (UIDL %q)", m.Number, m.UID)})
	}
	return l, nil
}

func (p *pop3Source) Examine(_ context.Context, f format.Folder) (format.Folder, []Item, error) {
	return f, p.items, nil
}

// NewReader shares the one session: POP3 gives one per maildrop.
func (p *pop3Source) NewReader() MessageReader { return pop3Reader{p.s} }

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

// distinctUIDLs renames the second and later messages that share a UIDL
// to "UIDL #N" (N its occurrence, from 2, in message-number order) and
// returns how many it renamed. A UIDL is the key of a message's record
// (what later runs recognise, what an import appends once), so two
// messages under one UIDL would lose one. RFC 1939 UIDLs hold no space, so
// the new names can never be a UIDL the server sent.
func distinctUIDLs(uidls []pop3.MessageUID) int {
	seen := map[string]int{}
	renamed := 0
	for i, u := range uidls {
		if u.UID == "" {
			continue
		}
		seen[u.UID]++
		if n := seen[u.UID]; n > 1 {
			uidls[i].UID = fmt.Sprintf("%s #%d", u.UID, n)
			renamed++
		}
	}
	return renamed
}

// pop3Reader retrieves messages on the source's session.
type pop3Reader struct{ s *pop3Session }

func (pr pop3Reader) Close() {}

func (pr pop3Reader) Read(ctx context.Context, f format.Folder, items []Item, sink Sink) error {
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if err := pr.retrieve(ctx, f, it, sink); err != nil {
			return err
		}
	}
	return nil
}

// retrieve downloads one message (by UIDL, so that a session redialled
// after a drop finds it under its new number) and stores it.
func (pr pop3Reader) retrieve(ctx context.Context, f format.Folder, it Item, sink Sink) error {
	s := pr.s
	var stop error
	err := s.do(ctx, func(c *pop3.Client) error {
		n := int(it.UID)
		if s.numbers != nil && it.UIDL != "" {
			var ok bool
			if n, ok = s.numbers[it.UIDL]; !ok {
				return errVanished
			}
		}
		rc, err := c.Retr(ctx, n)
		if err != nil {
			return fmt.Errorf("RETR %d: %w", n, err)
		}
		err = sink.Put(ctx, f, it, rc)
		rc.Close()
		if err != nil {
			if !isSourceError(err) {
				stop = err
				return nil
			}
			return fmt.Errorf("RETR %d: %w", n, err)
		}
		return nil
	})
	switch {
	case stop != nil:
		return stop
	case errors.Is(err, errVanished):
		sink.Warn(fmt.Sprintf("UIDL %q: deleted on the server during the export", it.UIDL))
	case err != nil:
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		sink.Fail(f, it, err)
	}
	return nil
}

var errVanished = errors.New("message no longer on the server")

// pop3Session is a POP3 session redialled after a drop. After a redial the
// message numbers are looked up again by UIDL.
type pop3Session struct {
	dial    func(ctx context.Context) (*pop3.Client, error)
	retries int
	conn    mailconn.Redial[*pop3.Client]
	numbers map[string]int // set on a redial, never nil then
}

func (s *pop3Session) do(ctx context.Context, fn func(*pop3.Client) error) error {
	l := mailconn.Link[*pop3.Client]{Dial: s.dial, Dialled: s.renumber}
	return s.conn.Do(ctx, l, s.retries, fn)
}

// renumber maps UIDLs to a redialled session's message numbers, which
// are per session.
func (s *pop3Session) renumber(ctx context.Context, c *pop3.Client, redial bool) error {
	if !redial {
		return nil
	}
	numbers, err := messageNumbers(ctx, c)
	if err != nil && !errors.Is(err, pop3.ErrNoUIDL) {
		return err
	}
	s.numbers = numbers
	return nil
}

// messageNumbers maps the maildrop's UIDLs, made distinct as List made
// them, to their message numbers in c's session. The map is empty, not
// nil, when UIDL fails.
func messageNumbers(ctx context.Context, c *pop3.Client) (map[string]int, error) {
	uidls, err := c.UIDL(ctx)
	distinctUIDLs(uidls)
	numbers := make(map[string]int, len(uidls))
	for _, u := range uidls {
		numbers[u.UID] = u.Number
	}
	return numbers, err
}

// close leaves the maildrop as it was: QUIT would commit deletions, and
// none are marked outside DeleteExported, which quits itself.
func (s *pop3Session) close() { s.conn.Drop() }
