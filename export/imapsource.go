package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// IMAPConfig says how to reach an IMAP account.
type IMAPConfig struct {
	// Endpoint is the source's URL without credentials, as recorded.
	Endpoint string
	// Account is the default account name, USER@HOST.
	Account string
	// Dial opens a logged-in connection; it is called once per connection
	// and again after a connection drops.
	Dial func(ctx context.Context) (*imapclient.Client, error)
	// DialRaw opens a logged-in connection on which the export speaks
	// IMAP itself, for folders whose names go-imap cannot handle (not
	// valid modified UTF-7, or raw 8-bit UTF-8 the server takes back only
	// as such). Without it, the former fail the listing, the latter their
	// EXAMINE.
	DialRaw func(ctx context.Context) (*mailconn.RawConn, error)
	// Retries is how many times a dropped connection is redialled for the
	// same piece of work before it is given up (default 6).
	Retries int
}

// imapSource reads an IMAP account: folders are listed and EXAMINEd on one
// coordinating connection, bodies fetched with BODY.PEEK[] on as many
// others as Run opens readers, so the source is never changed.
type imapSource struct {
	cfg   IMAPConfig
	coord *mailconn.Session
	// rawNames holds the names a raw LIST found sent unencoded, once one
	// ran (listRaw); nil before. Examine, which reads it, is not called
	// concurrently.
	rawNames map[string]bool
}

// NewIMAPSource returns the IMAP account cfg describes as a Source.
func NewIMAPSource(cfg IMAPConfig) Concurrent {
	if cfg.Retries <= 0 {
		cfg.Retries = 6
	}
	return &imapSource{cfg: cfg, coord: &mailconn.Session{Dial: cfg.Dial, Retries: cfg.Retries}}
}

func (s *imapSource) Concurrent() {}

func (s *imapSource) Describe() format.Source {
	return format.Source{Kind: format.SourceIMAP, Endpoint: s.cfg.Endpoint}
}

func (s *imapSource) DefaultAccount() string { return s.cfg.Account }

func (s *imapSource) Close() { s.coord.Close() }

func (s *imapSource) List(ctx context.Context) (Listing, error) {
	var folders []format.Folder
	var subsKnown bool
	err := s.coord.Do(ctx, func(c *imapclient.Client) error {
		list, extended, err := listPattern(c, "*")
		if err != nil {
			return asUnparsable(err)
		}
		// Two names go-imap decodes alike (a raw 8-bit name and its
		// modified UTF-7 form) would be one folder here: the raw
		// listing tells them apart.
		if name, ok := repeatedName(list); ok && s.cfg.DialRaw != nil {
			return &unparsableError{fmt.Sprintf("LIST: two folders read as %s", format.QuoteName(name))}
		}
		folders, subsKnown = foldersOf(list, extended), extended
		return nil
	})
	var l Listing
	if errors.As(err, new(*unparsableError)) {
		// go-imap ended the connection on a name that is not valid
		// modified UTF-7, or read two names alike: list them all raw.
		s.coord.Drop()
		folders, subsKnown, l.Failures, err = s.listRaw(ctx)
	}
	if err != nil {
		return l, err
	}
	l.Folders = folders
	if !subsKnown {
		l.Warnings = append(l.Warnings, "the server has no LIST-EXTENDED: subscriptions are unknown, every folder is recorded as subscribed")
	}
	err = s.coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		l.Namespace, err = personalNamespace(c)
		return err
	})
	return l, err
}

func (s *imapSource) Examine(ctx context.Context, f format.Folder) (format.Folder, []Item, error) {
	if f.RawName {
		return s.examineRaw(ctx, f)
	}
	var sel *imap.SelectData
	var items []Item
	dates := true
	examine := func(c *imapclient.Client) error {
		var err error
		items = items[:0]
		if sel, err = c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return fmt.Errorf("EXAMINE: %w", err)
		}
		s.coord.Selected = f.Name
		if sel.NumMessages == 0 {
			return nil
		}
		items, err = fetchMeta(c, dates)
		return asUnparsable(err)
	}
	var encodes bool
	err := s.coord.Do(ctx, func(c *imapclient.Client) error {
		// go-imap sends names modified UTF-7 encoded unless the server
		// speaks IMAP4rev2 (mailferry enables no UTF8=ACCEPT).
		encodes = !c.Caps().Has(imap.CapIMAP4rev2)
		return examine(c)
	})
	if encodes && s.sentRaw(ctx, f.Name, err) {
		f.RawName = true
		return s.examineRaw(ctx, f)
	}
	if errors.As(err, new(*unparsableError)) {
		// An INTERNALDATE go-imap cannot parse ended the connection:
		// list the folder without dates, then ask for those apart, so
		// that only the messages with bad ones go without.
		s.coord.Drop()
		dates = false
		if err = s.coord.Do(ctx, examine); err == nil {
			err = s.fetchDates(ctx, f.Name, items)
		}
	}
	if err != nil {
		return f, nil, err
	}
	f.UIDValidity = sel.UIDValidity
	f.UIDNext = uint32(sel.UIDNext)
	for _, pf := range sel.PermanentFlags {
		f.PermanentFlags = append(f.PermanentFlags, string(pf))
	}
	for _, fl := range sel.Flags {
		f.Flags = append(f.Flags, string(fl))
	}
	return f, items, nil
}

func (s *imapSource) NewReader() MessageReader {
	return &fetcher{Session: mailconn.Session{Dial: s.cfg.Dial, Retries: s.cfg.Retries},
		raw: rawReader{dial: s.cfg.DialRaw, retries: s.cfg.Retries}}
}

func (s *imapSource) recogniseByHeader(ctx context.Context, f format.Folder, items []Item, idx *archive.Index) (map[int]format.ID, error) {
	if f.RawName {
		return nil, errors.New("go-imap cannot select a folder whose name it cannot send as the server sent it")
	}
	var found map[int]format.ID
	err := s.coord.Do(ctx, func(c *imapclient.Client) error {
		if s.coord.Selected != f.Name {
			if _, err := c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				return err
			}
			s.coord.Selected = f.Name
		}
		var err error
		found, err = recogniseByHeader(ctx, c, idx, items)
		return err
	})
	return found, err
}

// fetchMeta reads UID, FLAGS, RFC822.SIZE and (if dates) INTERNALDATE of
// every message of the selected folder, in UID order.
func fetchMeta(c *imapclient.Client, dates bool) ([]Item, error) {
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	cmd := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: dates, RFC822Size: true})
	var items []Item
	seen := map[imap.UID]int{}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, fmt.Errorf("FETCH metadata: %w", err)
		}
		if buf.UID == 0 {
			continue
		}
		flags := make([]string, len(buf.Flags))
		for i, fl := range buf.Flags {
			flags[i] = string(fl)
		}
		it := Item{UID: uint32(buf.UID), Name: fmt.Sprintf("uid %d", buf.UID), Size: buf.RFC822Size,
			Flags: format.NormalizeFlags(flags), InternalDate: buf.InternalDate}
		if i, dup := seen[buf.UID]; dup {
			items[i] = it
			continue
		}
		seen[buf.UID] = len(items)
		items = append(items, it)
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("FETCH metadata: %w", err)
	}
	return items, nil
}
