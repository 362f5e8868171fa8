package export

import (
	"context"
	"fmt"
	"github.com/mailferry/mailferry/internal/progress"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// IMAPOptions configure an IMAP export.
type IMAPOptions struct {
	Options
	// Endpoint is the source's URL without credentials, as recorded.
	Endpoint string
	// Dial opens a logged-in connection; it is called once per connection
	// and again after a connection drops.
	Dial func(ctx context.Context) (*imapclient.Client, error)
	// Connections is how many connections download at once (default 4);
	// one more lists and examines folders.
	Connections int
	Filter      FolderFilter
	// Throttle, if set, paces downloads.
	Throttle Throttle
	// Progress, if set, is updated as the export goes.
	Progress *progress.Progress
	// Retries is how many times a dropped connection is redialled for the
	// same piece of work before it is given up (default 6).
	Retries int
}

// Throttle paces downloads: messages per second and bytes per second.
type Throttle interface {
	WaitMessage(ctx context.Context) error
	Reader(ctx context.Context, r io.Reader) io.Reader
}

// How new messages are handed out to the connections: UID ranges small
// enough that a dropped connection costs little and several connections
// share a large folder.
const (
	batchMessages = 256
	batchBytes    = 32 << 20
)

func (o *IMAPOptions) defaults() {
	if o.Connections <= 0 {
		o.Connections = 4
	}
	if o.Retries <= 0 {
		o.Retries = 6
	}
	if o.Progress == nil {
		o.Progress = new(progress.Progress)
	}
}

// msgMeta is what a metadata FETCH says of a message.
type msgMeta struct {
	flags format.Flags
	date  time.Time
	size  int64
}

// folderWork is a folder whose new messages are being downloaded.
type folderWork struct {
	folder format.Folder
	meta   map[imap.UID]msgMeta
}

type fetchJob struct {
	fw   *folderWork
	uids []imap.UID
}

// IMAP exports the account behind opts.Dial into the archive as a new
// snapshot. Only messages the archive does not hold yet (by UIDVALIDITY and
// UID) are downloaded; the snapshot still lists the account's whole state.
// The source is only read: folders are EXAMINEd and bodies fetched with
// BODY.PEEK[]. The error is non-nil when the export stopped early; a report
// with Failures means some messages could not be exported.
func IMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) (*Report, error) {
	opts.defaults()
	coord := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer coord.Close()
	var folders []format.Folder
	var subsKnown bool
	var ns *format.Namespace
	err := coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		if folders, subsKnown, err = listFolders(c); err != nil {
			return err
		}
		ns, err = personalNamespace(c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list folders of %s: %w", opts.Endpoint, err)
	}
	src := format.Source{Kind: format.SourceIMAP, Endpoint: opts.Endpoint}
	r, err := startRun(a, opts.Account, src, opts.Options, ns)
	if err != nil {
		return nil, err
	}
	if !subsKnown {
		r.rep.Warnings = append(r.rep.Warnings, "the server has no LIST-EXTENDED: subscriptions are unknown, every folder is recorded as subscribed")
	}
	k, err := loadKnown(a, r.idx, opts.Account)
	if err != nil {
		return r.stop(), err
	}
	return r.finishOrStop(ctx, exportIMAP(ctx, r, k, coord, folders, opts))
}

func exportIMAP(ctx context.Context, r *run, k *known, coord *mailconn.Session, folders []format.Folder, opts IMAPOptions) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan fetchJob, opts.Connections)
	var wg sync.WaitGroup
	for range opts.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &fetcher{Session: mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}, r: r, opts: &opts}
			defer w.Close()
			for job := range jobs {
				if err := w.fetch(ctx, job); err != nil {
					cancel(err)
				}
			}
		}()
	}
	err := examineFolders(ctx, r, k, coord, folders, opts, jobs)
	close(jobs)
	wg.Wait()
	if err == nil {
		// A worker's archive failure, or the caller's cancellation.
		err = context.Cause(ctx)
	}
	return err
}

// examineFolders walks the folders on the coordinating connection: records
// each one, records the messages the archive has, and hands the rest out
// as fetch jobs.
func examineFolders(ctx context.Context, r *run, k *known, coord *mailconn.Session, folders []format.Folder, opts IMAPOptions, jobs chan<- fetchJob) error {
	for _, f := range folders {
		if !opts.Filter.Match(f.Name) {
			continue
		}
		if f.HasAttribute(string(imap.MailboxAttrNoSelect)) || f.HasAttribute(string(imap.MailboxAttrNonExistent)) {
			if err := r.folder(f); err != nil {
				return err
			}
			continue
		}
		var sel *imap.SelectData
		meta := map[imap.UID]msgMeta{}
		var order []imap.UID
		err := coord.Do(ctx, func(c *imapclient.Client) error {
			var err error
			clear(meta)
			order = order[:0]
			if sel, err = c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				return fmt.Errorf("EXAMINE: %w", err)
			}
			if sel.NumMessages == 0 {
				return nil
			}
			return fetchMeta(c, meta, &order)
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.fail(f.Name, "", err)
			opts.Progress.Failed()
			continue
		}
		f.UIDValidity = sel.UIDValidity
		f.UIDNext = uint32(sel.UIDNext)
		for _, pf := range sel.PermanentFlags {
			f.PermanentFlags = append(f.PermanentFlags, string(pf))
		}
		for _, fl := range sel.Flags {
			f.Flags = append(f.Flags, string(fl))
		}
		if err := r.folder(f); err != nil {
			return err
		}
		var total int64
		for _, m := range meta {
			total += m.size
		}
		opts.Progress.MessagesTotal.Add(int64(len(order)))
		opts.Progress.Folder(f.Name, int64(len(order)), total)

		var byHeader map[imap.UID]format.ID
		if k.renumbered(f.Name, f.UIDValidity) {
			err := coord.Do(ctx, func(c *imapclient.Client) error {
				var err error
				if _, err = c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
					return err
				}
				byHeader, err = recogniseByHeader(ctx, c, r.idx, order, meta)
				return err
			})
			if err != nil {
				// Only a saving is lost: the bodies are downloaded.
				r.warn(fmt.Sprintf("folder %q: UIDVALIDITY changed and its headers could not be read (%v); downloading all its messages", f.Name, err))
			}
			slog.Info("UIDVALIDITY changed; known messages recognised by their headers", "folder", f.Name, "recognised", len(byHeader), "of", len(order))
		}

		fw := &folderWork{folder: f, meta: meta}
		var batch []imap.UID
		var batchSize int64
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case jobs <- fetchJob{fw: fw, uids: batch}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			batch, batchSize = nil, 0
			return nil
		}
		for _, uid := range order {
			m := meta[uid]
			ref, ok := k.uid(f.Name, f.UIDValidity, uint32(uid))
			if id, found := byHeader[uid]; found {
				ref, ok = storedRef{id: id, size: m.size}, true
			}
			if ok && ref.size == m.size {
				if err := r.message(format.Message{Folder: f.Name, UID: uint32(uid), ID: ref.id, Size: ref.size,
					Flags: m.flags, InternalDate: m.date}, false); err != nil {
					return err
				}
				opts.Progress.Message(f.Name, m.size, false)
				continue
			}
			batch = append(batch, uid)
			batchSize += m.size
			if len(batch) >= batchMessages || batchSize >= batchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		k.forget(f.Name)
		slog.Debug("folder examined", "folder", f.Name, "messages", len(order), "uidvalidity", f.UIDValidity)
	}
	return nil
}

// fetchMeta reads UID, FLAGS, INTERNALDATE and RFC822.SIZE of every message
// of the selected folder.
func fetchMeta(c *imapclient.Client, meta map[imap.UID]msgMeta, order *[]imap.UID) error {
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	cmd := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true})
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return fmt.Errorf("FETCH metadata: %w", err)
		}
		if buf.UID == 0 {
			continue
		}
		flags := make([]string, len(buf.Flags))
		for i, fl := range buf.Flags {
			flags[i] = string(fl)
		}
		if _, dup := meta[buf.UID]; !dup {
			*order = append(*order, buf.UID)
		}
		meta[buf.UID] = msgMeta{flags: format.NormalizeFlags(flags), date: buf.InternalDate, size: buf.RFC822Size}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("FETCH metadata: %w", err)
	}
	return nil
}
