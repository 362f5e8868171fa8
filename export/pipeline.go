package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// How the messages to read are handed out to a Concurrent source's
// connections: batches small enough that a dropped connection costs little
// and several connections share a large folder. Other sources get a whole
// folder at once, which lets a sequential store (mbox) be read in one pass.
const (
	batchMessages = 256
	batchBytes    = 32 << 20
)

// readJob is a batch of a folder's messages to read.
type readJob struct {
	folder format.Folder
	items  []Item
}

// Run exports src into the archive as a new snapshot of its account, or,
// with opts.DryRun, only says what it would do (a may then be nil). Only
// messages the archive does not hold yet (by UIDVALIDITY and UID, or by
// UIDL) are read; the snapshot still lists the whole selected state. The
// source is only read, unless opts.DeleteAfterExport. The error is non-nil
// when the export stopped early or an option does not apply to the source
// (*UnsupportedError); a report with Failures means some messages or
// folders could not be exported.
func Run(ctx context.Context, a *archive.Archive, src Source, opts Options) (*Report, error) {
	defer src.Close()
	if err := opts.check(src); err != nil {
		return nil, err
	}
	account := opts.Account
	if account == "" {
		account = src.DefaultAccount()
	}
	listing, err := src.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders of %s: %w", src.Describe().Endpoint, err)
	}
	if opts.DryRun {
		return dryRun(ctx, a, src, listing, account, opts)
	}
	r, err := startRun(a, account, src.Describe(), opts, listing.Namespace)
	if err != nil {
		return nil, err
	}
	for _, w := range listing.Warnings {
		r.warn(w)
	}
	for _, f := range listing.Failures {
		r.fail(f.Folder, f.Item, errors.New(f.Error))
	}
	k, err := loadKnown(a, r.idx, account)
	if err != nil {
		return r.stop(), err
	}
	rep, err := r.finishOrStop(ctx, r.export(ctx, src, k, listing.Folders, opts))
	if err != nil || !opts.DeleteAfterExport || !rep.Complete() {
		return rep, err
	}
	return rep, src.(DeleterAfterExport).DeleteExported(ctx, a, rep.Snapshot)
}

// export walks the selected folders while opts.Connections readers read
// what the archive lacks.
func (r *run) export(ctx context.Context, src Source, k *known, folders []format.Folder, opts Options) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan readJob, opts.Connections)
	sink := &runSink{r: r, opts: &opts, exactSize: src.Describe().Kind == format.SourceIMAP}
	var wg sync.WaitGroup
	for range opts.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := src.NewReader()
			defer rd.Close()
			for job := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := rd.Read(ctx, job.folder, job.items, sink); err != nil {
					cancel(err)
				}
			}
		}()
	}
	_, concurrent := src.(Concurrent)
	err := r.walk(ctx, src, k, folders, opts, jobs, concurrent)
	close(jobs)
	wg.Wait()
	if err == nil {
		// A reader's archive failure, or the caller's cancellation.
		err = context.Cause(ctx)
	}
	if err == nil && r.deferred() {
		// Not complete: the snapshot would lack the messages left.
		err = ErrBudgetSpent
	}
	return err
}

// walk examines each selected folder, records it and the messages the
// archive holds, and hands the rest out as read jobs.
func (r *run) walk(ctx context.Context, src Source, k *known, folders []format.Folder, opts Options, jobs chan<- readJob, batched bool) error {
	for _, f := range folders {
		if !opts.Filter.Match(f.Name) {
			continue
		}
		if !selectable(f) {
			if err := r.folder(f); err != nil {
				return err
			}
			continue
		}
		examined, items, err := src.Examine(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			r.fail(f.Name, "", err)
			opts.Progress.Failed()
			continue
		}
		f = examined
		if err := r.folder(f); err != nil {
			return err
		}
		var total int64
		for _, it := range items {
			total += it.Size
		}
		opts.Progress.MessagesTotal.Add(int64(len(items)))
		opts.Progress.Folder(f.Name, int64(len(items)), total)
		byHeader := r.recognise(ctx, src, k, f, items)

		var batch []Item
		var batchSize int64
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case jobs <- readJob{folder: f, items: batch}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			batch, batchSize = nil, 0
			return nil
		}
		for i, it := range items {
			if it.Warning != "" {
				r.warn(fmt.Sprintf("folder %q %s: %s", f.Name, it.Name, it.Warning))
			}
			if it.Err != nil {
				r.fail(f.Name, it.Name, it.Err)
				opts.Progress.Failed()
				continue
			}
			ref, ok := k.lookup(f, it)
			if id, found := byHeader[i]; found {
				ref, ok = storedRef{id: id, size: it.Size}, true
			}
			if ok {
				m := format.Message{Folder: f.Name, UID: it.UID, UIDL: it.UIDL, ID: ref.id, Size: ref.size,
					Flags: it.Flags, InternalDate: it.InternalDate, DateSource: it.DateSource}
				if m.InternalDate.IsZero() {
					// The source cannot tell the date now; the run that
					// stored the message found one.
					m.InternalDate, m.DateSource = ref.date, ref.dateSource
				}
				if err := r.message(m, false); err != nil {
					return err
				}
				opts.Progress.Message(f.Name, ref.size, false)
				continue
			}
			if !r.spend(it.Size) {
				continue // left, unlisted, for the next run
			}
			batch = append(batch, it)
			batchSize += it.Size
			if batched && (len(batch) >= batchMessages || batchSize >= batchBytes) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		k.forget(f.Name)
		slog.Debug("folder examined", "folder", f.Name, "messages", len(items), "uidvalidity", f.UIDValidity)
	}
	return nil
}

// recognise finds, in a folder whose UIDVALIDITY changed since the last
// run, the messages the archive holds by their headers, where the source
// can (IMAP): this costs their headers instead of their bodies.
func (r *run) recognise(ctx context.Context, src Source, k *known, f format.Folder, items []Item) map[int]format.ID {
	hr, ok := src.(headerRecogniser)
	if !ok || !k.renumbered(f.Name, f.UIDValidity) {
		return nil
	}
	found, err := hr.recogniseByHeader(ctx, f, items, r.idx)
	if err != nil {
		// Only a saving is lost: the bodies are downloaded.
		r.warn(fmt.Sprintf("folder %q: UIDVALIDITY changed and its headers could not be read (%v); downloading all its messages", f.Name, err))
		return nil
	}
	slog.Info("UIDVALIDITY changed; known messages recognised by their headers", "folder", f.Name, "recognised", len(found), "of", len(items))
	return found
}

// selectable reports whether a folder can hold messages.
func selectable(f format.Folder) bool {
	return !f.HasAttribute(`\Noselect`) && !f.HasAttribute(`\NonExistent`)
}
