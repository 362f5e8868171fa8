package importer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/importer/transform"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/progress"
)

// IMAPOptions configure an import into an IMAP server.
type IMAPOptions struct {
	// Dial opens a logged-in connection to the destination, for
	// everything but APPEND: SELECT, SEARCH, FETCH, STORE.
	Dial func(ctx context.Context) (*imapclient.Client, error)
	// DialAppender opens the connection that APPENDs (LITERAL+ and
	// MULTIAPPEND where the server has them); required unless planning.
	DialAppender func(ctx context.Context) (*mailconn.Appender, error)
	// Destination names the server and user in reports (no secret).
	Destination string
	// Snapshot is the snapshot to replay.
	Snapshot archive.SnapshotInfo
	// Reader, if set, reads the archive's messages; imports of many
	// accounts share one, and with it the index held in memory. Without
	// it the import loads the index itself.
	Reader  *archive.Reader
	Folders foldermap.Options
	// CaseInsensitive says the destination folds folder-name case
	// (Exchange, Office 365, Gmail).
	CaseInsensitive bool
	// Manifest remembers what went where; required unless planning.
	Manifest *Manifest
	// Connections is how many connections append at once (default 1: with
	// LITERAL+ one connection keeps the server busy, and Dovecot measured
	// slower with four, which contend for the mailbox).
	Connections int
	Throttle    *mailconn.Throttle // messages and bytes sent per second
	Retries     int
	// Progress, if set, is updated as the import goes.
	Progress *progress.Progress
	// Transforms are applied to every message; the zero value changes only
	// what IMAP requires (CRLF line ends, no \Recent, no keywords the
	// folder refuses).
	Transforms transform.Set
	// DedupMessageID loosens the check for messages already in a
	// destination folder that the manifest does not know: the same
	// Message-ID and the same size or internal date suffice, the bytes
	// are not compared. Messages without a Message-ID are never taken
	// for duplicates then.
	DedupMessageID bool
	// MaxBytesPerDay stops appending once this many bytes went to the
	// destination today (UTC), earlier runs counted (the manifest keeps
	// what each APPEND sent on which day): Gmail takes about 500 MB a day
	// over IMAP. What is left waits for the next run. 0: no budget.
	MaxBytesPerDay int64
	// Delete expunges from the destination folders of this run the
	// messages an earlier import put there that the snapshot no longer
	// has (imapsync's --delete2); never a message the manifest did not
	// put there.
	Delete bool
}

func (o *IMAPOptions) defaults() {
	if o.Progress == nil {
		o.Progress = new(progress.Progress)
	}
	if o.Connections <= 0 {
		o.Connections = 1
	}
	if o.Retries <= 0 {
		o.Retries = 6
	}
}

// folderWork is a source folder's messages and their bytes.
type folderWork struct{ n, bytes int64 }

// snapshotFolders reads the folder records of a snapshot and, in the same
// pass, counts each folder's messages for Progress.
func snapshotFolders(a *archive.Archive, snap format.ID) ([]format.Folder, map[string]folderWork, error) {
	var out []format.Folder
	work := map[string]folderWork{}
	err := a.ReadSnapshot(snap, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			out = append(out, *f)
		} else if m := rec.Message; m != nil {
			w := work[m.Folder]
			work[m.Folder] = folderWork{w.n + 1, w.bytes + m.Size}
		}
		return nil
	})
	return out, work, err
}

func mapFolders(c *imapclient.Client, src []format.Folder, opts *IMAPOptions) ([]foldermap.Mapping, error) {
	dest, err := readDestination(c, opts.CaseInsensitive)
	if err != nil {
		return nil, err
	}
	return foldermap.Map(src, opts.Snapshot.Namespace, dest, opts.Folders)
}

// selectable reports whether a mapping's messages go anywhere.
func selectable(m foldermap.Mapping) bool {
	return !m.Excluded && m.Dest != "" && !m.Source.HasAttribute(`\Noselect`) && !m.Source.HasAttribute(`\NonExistent`)
}

// ImportIMAP replays the snapshot into the destination: creates folders,
// settles what a killed run left unresolved, checks what the manifest
// remembers against what the destination holds, appends every message the
// destination lacks, byte for byte with its flags and internal date,
// updates the flags of messages already there, and with Delete expunges
// what the snapshot no longer has. Run again, it changes nothing.
func ImportIMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) (*ImportReport, error) {
	opts.defaults()
	if opts.Manifest == nil || opts.DialAppender == nil {
		return nil, errors.New("import: IMAPOptions.Manifest and IMAPOptions.DialAppender are required")
	}
	// Shared: an archive prune waits for the import to finish.
	lock, err := a.LockShared("import")
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	rep := &ImportReport{Account: opts.Snapshot.Account, Snapshot: opts.Snapshot.ID.String(), Destination: opts.Destination,
		Manifest: opts.Manifest.Path(), Started: time.Now()}
	im := &importer{a: a, opts: &opts, rep: rep, folders: map[string]*destFolder{}}
	err = im.run(ctx)
	rep.Duration = time.Since(rep.Started)
	return rep, err
}

func (im *importer) run(ctx context.Context) error {
	src, work, err := snapshotFolders(im.a, im.opts.Snapshot.ID)
	if err != nil {
		return err
	}
	coord := &mailconn.Session{Dial: im.opts.Dial, Retries: im.opts.Retries}
	defer coord.Close()
	var mappings []foldermap.Mapping
	err = coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		if mappings, err = mapFolders(c, src, im.opts); err != nil {
			return err
		}
		im.appendLimit(c)
		im.rep.Created, err = createFolders(c, mappings)
		return err
	})
	if err != nil {
		return err
	}
	im.setMappings(mappings)
	if err := im.opts.Manifest.StartRun(im.runRecord(mappings)); err != nil {
		return err
	}
	if err := im.inspectAll(ctx, coord, false); err != nil {
		return err
	}
	if err := im.settleAll(ctx, coord); err != nil {
		return err
	}
	if im.reader = im.opts.Reader; im.reader == nil {
		var err error
		if im.reader, _, err = im.a.OpenReader(); err != nil {
			return err
		}
		defer im.reader.Close()
	}
	im.countWork(work)
	if err := im.appendAll(ctx); err != nil {
		return err
	}
	if err := im.updateFlags(ctx, coord); err != nil {
		return err
	}
	if im.opts.Delete {
		return im.deleteGone(ctx, coord)
	}
	return nil
}

// appendLimit lowers the size limit to the server's APPENDLIMIT (RFC
// 7889; Gmail announces 35,651,584): a larger message would only be
// refused after its bytes were sent.
func (im *importer) appendLimit(c *imapclient.Client) {
	limit, ok := c.Caps().AppendLimit()
	if !ok || limit == nil || *limit == 0 {
		return
	}
	if t := &im.opts.Transforms; t.MaxSize == 0 || int64(*limit) < t.MaxSize {
		t.MaxSize, t.MaxSizeFrom = int64(*limit), "the server's APPENDLIMIT"
	}
}

func (im *importer) setMappings(mappings []foldermap.Mapping) {
	im.mappings = map[string]foldermap.Mapping{}
	for _, m := range mappings {
		im.mappings[m.Source.Name] = m
	}
	im.order = mappings
}

func (im *importer) runRecord(mappings []foldermap.Mapping) Run {
	r := Run{Snapshot: im.opts.Snapshot.ID, Account: im.opts.Snapshot.Account, Time: time.Now().UTC(), Delete: im.opts.Delete}
	for _, m := range mappings {
		rf := RunFolder{Source: m.Source.Name}
		if selectable(m) {
			rf.Dest = m.Dest
		}
		r.Folders = append(r.Folders, rf)
	}
	return r
}

// inspectAll reads every destination folder of the run (inspect), once
// each, before anything is appended. A folder that cannot be selected is
// left out: its messages fail with the server's words when they come.
func (im *importer) inspectAll(ctx context.Context, s *mailconn.Session, readOnly bool) error {
	return s.Do(ctx, func(c *imapclient.Client) error {
		for _, m := range im.order {
			if !selectable(m) || im.folders[m.Dest] != nil {
				continue
			}
			f, err := inspect(c, m.Dest, im.opts.Manifest, readOnly)
			var ie *imap.Error
			if errors.As(err, &ie) {
				if !readOnly {
					slog.Warn("destination folder cannot be read", "folder", m.Dest, "error", err)
				}
				continue
			}
			if err != nil {
				return err
			}
			im.folders[m.Dest] = f
		}
		return nil
	})
}

// importer is one import run.
type importer struct {
	a        *archive.Archive
	opts     *IMAPOptions
	reader   *archive.Reader
	mappings map[string]foldermap.Mapping // by source folder
	order    []foldermap.Mapping

	mu      sync.Mutex
	rep     *ImportReport
	folders map[string]*destFolder // by destination name
	// flagJobs are the flag updates of messages already there; keys the
	// records of the snapshot (for Delete).
	flagJobs []flagJob
	keys     map[string]bool
}

// folder returns the destination folder's state: inspected at the start,
// or (a folder that could not be read then) now.
func (im *importer) folder(c *imapclient.Client, name string) (*destFolder, error) {
	im.mu.Lock()
	f := im.folders[name]
	im.mu.Unlock()
	if f != nil {
		return f, nil
	}
	f, err := inspect(c, name, im.opts.Manifest, false)
	if err != nil {
		return nil, err
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if old := im.folders[name]; old != nil {
		return old, nil
	}
	im.folders[name] = f
	return f, nil
}

func (im *importer) landed(f *destFolder, uid uint32) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if uid >= f.uidNext {
		f.uidNext = uid + 1
	}
}

// item names a message of the snapshot in a report.
func item(j appendJob, reason string) Item {
	return Item{Folder: j.folder.Name, Dest: j.dest, UID: j.msg.UID, UIDL: j.msg.UIDL, Message: j.msg.ID.String(), Reason: reason}
}

// fail reports a message that did not land.
func (im *importer) fail(j appendJob, reason string) {
	im.opts.Progress.Failed()
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Failed = append(im.rep.Failed, item(j, reason))
	slog.Warn("not imported", "folder", j.folder.Name, "uid", j.msg.UID, "message", j.msg.ID.Short(), "reason", reason)
}

// damaged reports a message the archive could not give back intact.
func (im *importer) damaged(j appendJob, err error) {
	im.mu.Lock()
	im.rep.ArchiveDamage = true
	im.mu.Unlock()
	im.fail(j, "archive damage: "+err.Error())
}

// appendBatchSize bounds how many intents one fsync covers (and how many
// messages a kill can leave to be settled per connection).
const appendBatchSize = 64

type appendJob struct {
	key    string
	folder format.Folder
	msg    format.Message
	dest   string
	// read is the message read ahead for its folder, nil if not.
	read *readMessage
}

// appendAll streams the snapshot's messages to the workers, passing over
// those the destination is found to hold (queueing their flag updates).
func (im *importer) appendAll(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan appendJob, im.opts.Connections*appendBatchSize)
	var wg sync.WaitGroup
	for range im.opts.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{im: im, s: &mailconn.Session{Dial: im.opts.Dial, Retries: im.opts.Retries}, dial: im.opts.DialAppender}
			defer w.close()
			for j := range jobs {
				// Take what else is waiting, up to appendBatchSize:
				// their intents then share one fsync.
				batch := []appendJob{j}
			more:
				for len(batch) < appendBatchSize {
					select {
					case j2, ok := <-jobs:
						if !ok {
							break more
						}
						batch = append(batch, j2)
					default:
						break more
					}
				}
				if err := w.appendBatch(ctx, batch); err != nil {
					cancel(err)
				}
			}
		}()
	}
	if im.opts.Delete {
		im.keys = map[string]bool{}
	}
	budget := im.opts.MaxBytesPerDay - im.opts.Manifest.SentToday()
	err := im.walk(func(j appendJob) error {
		key, m := j.key, j.msg
		if im.keys != nil {
			im.keys[key] = true
		}
		mp := im.mappings[m.Folder]
		im.mu.Lock()
		f := im.folders[mp.Dest]
		im.mu.Unlock()
		if f != nil {
			if e, ok := f.alive[key]; ok {
				im.alreadyThere(f, e, m)
				return nil
			}
		}
		spend := im.opts.MaxBytesPerDay > 0
		if spend && m.Size > budget {
			budget = 0 // in order: nothing after it goes today either
			im.deferred(m.Size)
			return nil
		}
		if f != nil {
			// Reading here, ahead of the workers, keeps the server busy
			// while the archive is read.
			j.read = im.read(m, f)
		}
		if spend {
			size := m.Size
			if r := j.read; r != nil && r.err == nil && r.skip == "" {
				size = r.size // with CRLF line ends and header edits
			}
			if size > budget {
				budget = 0
				im.deferred(m.Size)
				return nil
			}
			budget -= size
		}
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(jobs)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	return err
}

// walk calls fn for each message of the snapshot that goes somewhere, as
// the job of appending it.
func (im *importer) walk(fn func(appendJob) error) error {
	srcFolders := map[string]format.Folder{}
	return im.a.ReadSnapshot(im.opts.Snapshot.ID, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			srcFolders[f.Name] = *f
			return nil
		}
		m := *rec.Message
		mp := im.mappings[m.Folder]
		if !selectable(mp) {
			return nil
		}
		f := srcFolders[m.Folder]
		return fn(appendJob{key: RecordKey(im.opts.Snapshot.Account, f, m), folder: f, msg: m, dest: mp.Dest})
	})
}

// deferred counts a message left for another day by MaxBytesPerDay.
func (im *importer) deferred(size int64) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Deferred++
	im.rep.DeferredBytes += size
}

// alreadyThere counts a message the destination holds and queues the
// update of its flags where the snapshot's differ from those it was
// given.
func (im *importer) alreadyThere(f *destFolder, e ManifestEntry, m format.Message) {
	im.mu.Lock()
	im.rep.AlreadyThere++
	im.mu.Unlock()
	im.opts.Progress.Message(f.name, m.Size, false)
	want, _ := im.opts.Transforms.Flags.Apply(m.Flags, f.permanentFlags)
	if add, remove := flagDiff(e.Flags, want); len(add)+len(remove) > 0 {
		im.flagJobs = append(im.flagJobs, flagJob{key: e.Key, folder: f.name, uid: e.UID, add: add, remove: remove, now: want})
	}
}

// countWork announces each destination folder's messages to Progress,
// from the counts per source folder.
func (im *importer) countWork(work map[string]folderWork) {
	byDest := map[string]folderWork{}
	var order []string
	for _, mp := range im.order {
		if w := work[mp.Source.Name]; w.n > 0 && selectable(mp) {
			d, seen := byDest[mp.Dest]
			if !seen {
				order = append(order, mp.Dest)
			}
			byDest[mp.Dest] = folderWork{d.n + w.n, d.bytes + w.bytes}
		}
	}
	for _, d := range order {
		im.opts.Progress.MessagesTotal.Add(byDest[d].n)
		im.opts.Progress.Folder(d, byDest[d].n, byDest[d].bytes)
	}
}

// noteChanges counts a message under each kind of change made to it.
func (im *importer) noteChanges(changes []transform.Change) {
	if len(changes) == 0 {
		return
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.rep.Transformed == nil {
		im.rep.Transformed = map[string]int{}
	}
	for _, k := range transform.Kinds(changes) {
		im.rep.Transformed[string(k)]++
	}
}

func imapFlags(fl format.Flags) []imap.Flag {
	out := make([]imap.Flag, len(fl))
	for i, f := range fl {
		out[i] = imap.Flag(f)
	}
	return out
}

// errStop is a failure of the archive or the manifest: it stops the
// import, where the destination's refusals and damaged messages only
// fail their messages.
type errStop struct{ err error }

func (e *errStop) Error() string { return e.err.Error() }
func (e *errStop) Unwrap() error { return e.err }

// onSession runs fn on s as s.Do does, except that an errStop from fn
// ends it at once and comes back unwrapped as stop: anything else counts
// as the connection's failure, which s redials.
func onSession(ctx context.Context, s *mailconn.Session, fn func(*imapclient.Client) error) (stop, err error) {
	err = s.Do(ctx, func(c *imapclient.Client) error {
		err := fn(c)
		var es *errStop
		if errors.As(err, &es) {
			stop = es.err
			return nil
		}
		return err
	})
	return stop, err
}
