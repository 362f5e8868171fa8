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
		var err error
		folders, subsKnown, err = listFolders(c)
		return asUnparsable(err)
	})
	var l Listing
	if errors.As(err, new(*unparsableError)) {
		s.coord.Drop()
		folders, subsKnown, l.Failures, l.Warnings, err = s.listAround(ctx)
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

// listAround lists every folder but those go-imap cannot decode the names
// of, which it reports as failures (and prefixes where more such folders
// may be, as warnings).
func (s *imapSource) listAround(ctx context.Context) ([]format.Folder, bool, []Failure, []string, error) {
	var data []*imap.ListData
	var extended bool
	leaves, parents, err := s.listByPrefix(ctx, "", 0, &data, &extended)
	if err != nil {
		return nil, false, nil, nil, err
	}
	var failures []Failure
	for _, prefix := range leaves {
		failures = append(failures, Failure{Folder: prefix + "…", Error: "folders whose names start so and go on with a non-ASCII character are not exported: one of them is not valid modified UTF-7, which go-imap (v2 beta.8) can neither list nor open"})
	}
	var warnings []string
	for _, prefix := range parents {
		warnings = append(warnings, fmt.Sprintf("folders whose names start with %q and go on with a non-ASCII character could not be listed, for a name below that is not valid modified UTF-7", prefix))
	}
	return foldersOf(data, extended), extended, failures, warnings, nil
}

func (s *imapSource) Examine(ctx context.Context, f format.Folder) (format.Folder, []Item, error) {
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
	err := s.coord.Do(ctx, examine)
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
	return &fetcher{Session: mailconn.Session{Dial: s.cfg.Dial, Retries: s.cfg.Retries}}
}

func (s *imapSource) recogniseByHeader(ctx context.Context, f format.Folder, items []Item, idx *archive.Index) (map[int]format.ID, error) {
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
