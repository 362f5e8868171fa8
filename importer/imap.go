package importer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/importer/transform"
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

// IMAPOptions configure an import into an IMAP server.
type IMAPOptions struct {
	// Dial opens a logged-in connection to the destination.
	Dial func(ctx context.Context) (*imapclient.Client, error)
	// DialAppender, if set, opens a connection that APPENDs with LITERAL+
	// (many in flight); without it, or when the server lacks LITERAL+,
	// messages go through go-imap, one round trip each.
	DialAppender func(ctx context.Context) (*mailconn.Appender, error)
	// Snapshot is the snapshot to replay.
	Snapshot archive.SnapshotInfo
	Folders  foldermap.Options
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
	// what IMAP requires (no \Recent, no keywords the folder refuses).
	Transforms transform.Set
	// DedupMessageID skips a message when one with the same Message-ID
	// and the same size or internal date is in the destination folder
	// already (filled some other way). Messages without a Message-ID are
	// never taken for duplicates.
	DedupMessageID bool
}

// FolderPlan is the plan for one source folder.
type FolderPlan struct {
	Mapping  foldermap.Mapping
	New      int
	NewBytes int64
	Already  int // in the manifest: appended by an earlier run
	Pending  int // an earlier run was killed around its APPEND: settled first
}

// ImportReport says what an import did. It is complete when Failures is
// empty.
type ImportReport struct {
	Appended int `json:"appended"`
	// Duplicates counts messages skipped by DedupMessageID.
	Duplicates int `json:"duplicates,omitempty"`
	// Skipped lists messages the transforms said not to import (--max-size).
	Skipped []Failure `json:"skipped,omitempty"`
	// Transformed counts, per kind of change, the messages a transform
	// changed (a flag dropped, a read receipt disarmed, a line re-encoded).
	Transformed map[string]int `json:"transformed,omitempty"`
	// Already counts messages the manifest says an earlier run appended.
	Already int `json:"already"`
	// Settled counts messages an interrupted run had appended without
	// recording it, found on the destination and recorded now.
	Settled  int           `json:"settled"`
	Bytes    int64         `json:"bytes"`
	Created  []string      `json:"created_folders,omitempty"`
	Failures []Failure     `json:"failures,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Failure is a message or folder that could not be imported.
type Failure struct {
	Folder string `json:"folder"`
	Item   string `json:"item"`
	Error  string `json:"error"`
}

// Complete reports whether every message landed.
func (r *ImportReport) Complete() bool { return len(r.Failures) == 0 }

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

// snapshotFolders reads the folder records of a snapshot.
func snapshotFolders(a *archive.Archive, snap format.ID) ([]format.Folder, error) {
	var out []format.Folder
	err := a.ReadSnapshot(snap, func(rec format.SnapshotRecord) error {
		if rec.Folder != nil {
			out = append(out, *rec.Folder)
		}
		return nil
	})
	return out, err
}

// PlanIMAP works out what an import would do, changing nothing on the
// destination: each source folder's destination, whether it exists, and
// how many messages are new or already there (by the manifest, if given).
func PlanIMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) ([]FolderPlan, error) {
	opts.defaults()
	c, err := opts.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	mappings, err := mapFolders(c, a, opts)
	if err != nil {
		return nil, err
	}
	plans := make([]FolderPlan, len(mappings))
	index := map[string]int{}
	folders := map[string]format.Folder{}
	for i, m := range mappings {
		plans[i].Mapping = m
		index[m.Source.Name] = i
		folders[m.Source.Name] = m.Source
	}
	err = a.ReadSnapshot(opts.Snapshot.ID, func(rec format.SnapshotRecord) error {
		m := rec.Message
		if m == nil {
			return nil
		}
		p := &plans[index[m.Folder]]
		if opts.Manifest != nil {
			if e, ok := opts.Manifest.Lookup(RecordKey(opts.Snapshot.Account, folders[m.Folder], *m)); ok {
				if e.Done {
					p.Already++
				} else {
					p.Pending++
				}
				return nil
			}
		}
		p.New++
		p.NewBytes += m.Size
		return nil
	})
	return plans, err
}

func mapFolders(c *imapclient.Client, a *archive.Archive, opts IMAPOptions) ([]foldermap.Mapping, error) {
	dest, err := readDestination(c, opts.CaseInsensitive)
	if err != nil {
		return nil, err
	}
	src, err := snapshotFolders(a, opts.Snapshot.ID)
	if err != nil {
		return nil, err
	}
	return foldermap.Map(src, opts.Snapshot.Namespace, dest, opts.Folders)
}

// ImportIMAP replays the snapshot into the destination: creates folders,
// settles what a killed run left unresolved, and appends every message the
// manifest does not hold, byte for byte with its flags and internal date.
// Run again, it appends nothing.
func ImportIMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) (*ImportReport, error) {
	opts.defaults()
	start := time.Now()
	if opts.Manifest == nil {
		return nil, errors.New("import: no manifest")
	}
	rep := &ImportReport{}
	im := &importer{a: a, opts: &opts, rep: rep, folders: map[string]*destFolder{}}
	coord := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer coord.Close()
	var mappings []foldermap.Mapping
	err := coord.Do(ctx, func(c *imapclient.Client) error {
		var err error
		if mappings, err = mapFolders(c, a, opts); err != nil {
			return err
		}
		rep.Created, err = createFolders(c, mappings)
		return err
	})
	if err != nil {
		return rep, err
	}
	im.mappings = map[string]foldermap.Mapping{}
	for _, m := range mappings {
		im.mappings[m.Source.Name] = m
	}
	if err := im.settleAll(ctx, coord); err != nil {
		return rep, err
	}
	idx, _, err := a.Index()
	if err != nil {
		return rep, err
	}
	im.idx = idx
	if im.reader, err = a.NewReader(idx); err != nil {
		return rep, err
	}
	defer im.reader.Close()
	err = im.appendAll(ctx)
	rep.Duration = time.Since(start)
	return rep, err
}

// importer is one import run.
type importer struct {
	a        *archive.Archive
	opts     *IMAPOptions
	reader   *archive.Reader
	idx      *archive.Index
	mappings map[string]foldermap.Mapping // by source folder

	mu      sync.Mutex
	rep     *ImportReport
	folders map[string]*destFolder // by destination name
}

// destFolder is what the import knows of a destination folder.
type destFolder struct {
	name        string
	uidValidity uint32
	// uidNext is a lower bound for the UID of any APPEND not yet done:
	// what SELECT said, raised past every UID an APPEND got since.
	uidNext        uint32
	permanentFlags []string
	// present holds what the folder held before this run, by Message-ID,
	// for DedupMessageID.
	present map[string][]presentMsg
}

type presentMsg struct {
	size int64
	date time.Time
}

func (im *importer) fail(folder, item string, err error) {
	im.opts.Progress.Failed()
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Failures = append(im.rep.Failures, Failure{Folder: folder, Item: item, Error: err.Error()})
	slog.Warn("not imported", "folder", folder, "item", item, "error", err)
}

// folder returns the destination folder's state, selecting it on c the
// first time.
func (im *importer) folder(c *imapclient.Client, name string) (*destFolder, error) {
	im.mu.Lock()
	f := im.folders[name]
	im.mu.Unlock()
	if f != nil {
		return f, nil
	}
	sel, err := c.Select(name, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("SELECT %q: %w", name, err)
	}
	f = &destFolder{name: name, uidValidity: sel.UIDValidity, uidNext: uint32(sel.UIDNext)}
	for _, pf := range sel.PermanentFlags {
		f.permanentFlags = append(f.permanentFlags, string(pf))
	}
	if im.opts.DedupMessageID && sel.NumMessages > 0 {
		if f.present, err = presentByMessageID(c); err != nil {
			return nil, fmt.Errorf("folder %q: %w", name, err)
		}
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

// appendBatchSize bounds how many intents one fsync covers (and how many
// messages a kill can leave to be settled per connection).
const appendBatchSize = 64

type appendJob struct {
	key    string
	folder format.Folder
	msg    format.Message
	dest   string
}

// appendAll streams the snapshot's messages to the workers, skipping what
// the manifest holds.
func (im *importer) appendAll(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan appendJob, im.opts.Connections*appendBatchSize)
	var wg sync.WaitGroup
	for range im.opts.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &mailconn.Session{Dial: im.opts.Dial, Retries: im.opts.Retries}
			defer s.Close()
			var ac *appenderConn
			if im.opts.DialAppender != nil {
				ac = &appenderConn{dial: im.opts.DialAppender}
				defer ac.close()
			}
			for j := range jobs {
				// Take what else is waiting, up to appendBatch: their
				// intents then share one fsync.
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
				if err := im.appendBatch(ctx, s, ac, batch); err != nil {
					cancel(err)
				}
			}
		}()
	}
	if err := im.countWork(); err != nil {
		return err
	}
	srcFolders := map[string]format.Folder{}
	err := im.a.ReadSnapshot(im.opts.Snapshot.ID, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			srcFolders[f.Name] = *f
			return nil
		}
		m := *rec.Message
		mp := im.mappings[m.Folder]
		if mp.Excluded || mp.Dest == "" {
			return nil
		}
		key := RecordKey(im.opts.Snapshot.Account, srcFolders[m.Folder], m)
		if e, ok := im.opts.Manifest.Lookup(key); ok && e.Done {
			im.mu.Lock()
			im.rep.Already++
			im.mu.Unlock()
			im.opts.Progress.Message(mp.Dest, m.Size, false)
			return nil
		}
		select {
		case jobs <- appendJob{key: key, folder: srcFolders[m.Folder], msg: m, dest: mp.Dest}:
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

// appendBatch lands a batch of messages exactly once: their intents are
// written together, so that one fsync covers them, then they are sent.
func (im *importer) appendBatch(ctx context.Context, s *mailconn.Session, ac *appenderConn, batch []appendJob) error {
	var ready []prepared
	stop, err := onSession(ctx, s, func(c *imapclient.Client) error {
		var err error
		ready, err = im.prepareAll(c, batch)
		return err
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		for _, j := range batch {
			im.fail(j.folder.Name, fmt.Sprintf("uid %d", j.msg.UID), err)
		}
		return nil
	}
	if ac != nil && !ac.unsupported {
		if handled, err := im.appendStreamed(ctx, s, ac, ready); handled || err != nil {
			return err
		}
	}
	return im.appendPipelined(ctx, s, ready)
}

// prepareAll prepares jobs on c and writes the intents of those to send,
// one fsync for them all. Manifest failures come back as archiveError.
func (im *importer) prepareAll(c *imapclient.Client, jobs []appendJob) ([]prepared, error) {
	var ready []prepared
	for _, j := range jobs {
		p, ok, err := im.prepare(c, j)
		if err != nil {
			return nil, err
		}
		if ok {
			ready = append(ready, p)
		}
	}
	entries := make([]ManifestEntry, len(ready))
	for i, p := range ready {
		entries[i] = p.entry
	}
	if err := im.opts.Manifest.Intents(entries); err != nil {
		return nil, &archiveError{err}
	}
	return ready, nil
}

// onSession runs fn on s as s.Do does, except that an archiveError from fn
// ends it at once and comes back unwrapped as stop: anything else counts
// as the connection's failure, which s redials.
func onSession(ctx context.Context, s *mailconn.Session, fn func(*imapclient.Client) error) (stop, err error) {
	err = s.Do(ctx, func(c *imapclient.Client) error {
		err := fn(c)
		var ae *archiveError
		if errors.As(err, &ae) {
			stop = ae.err
			return nil
		}
		return err
	})
	return stop, err
}

// landedAs records that p landed as uid (0 when the server does not say)
// and queues the flags that must follow the APPEND onto later. Its only
// error is the manifest's.
func (im *importer) landedAs(p prepared, uid, uidValidity uint32, later *[]storeLater) error {
	if err := im.opts.Manifest.Done(p.job.key, uid, uidValidity); err != nil {
		return err
	}
	if uid != 0 {
		im.landed(p.f, uid)
		if len(p.storeAfter) > 0 {
			*later = append(*later, storeLater{folder: p.f.name, uid: uid, flags: p.storeAfter})
		}
	}
	im.mu.Lock()
	im.rep.Appended++
	im.rep.Bytes += p.entry.Size
	im.mu.Unlock()
	im.opts.Progress.Message(p.f.name, p.entry.Size, true)
	return nil
}

// refusedBy records that the server refused p, which therefore did not
// land, and reports it. Its only error is the manifest's.
func (im *importer) refusedBy(p prepared, refused map[string]bool, err error) error {
	j := p.job
	refused[j.key] = true
	im.fail(j.folder.Name, fmt.Sprintf("uid %d", j.msg.UID), fmt.Errorf("APPEND to %q: %w", p.f.name, err))
	return im.opts.Manifest.Abandon(j.key)
}

// failPending reports as not imported each message of todo that has no
// outcome yet and that the server did not refuse (refusals are reported
// as they come).
func (im *importer) failPending(todo []prepared, refused map[string]bool, err error) {
	for _, p := range todo {
		if e, ok := im.opts.Manifest.Lookup(p.job.key); ok && !e.Done && !refused[p.job.key] {
			im.fail(p.job.folder.Name, fmt.Sprintf("uid %d", p.job.msg.UID), err)
		}
	}
}

// appendPipelined sends the APPENDs of messages whose intents are on disk
// one after another without waiting (as mbsync's PipelineDepth does), then
// collects the answers in order. After a dropped connection the messages
// without an outcome are prepared again (settled, new intents) and sent
// again. Only manifest and archive failures and cancellation are returned.
func (im *importer) appendPipelined(ctx context.Context, s *mailconn.Session, todo []prepared) error {
	fresh := true
	refused := map[string]bool{}
	stop, err := onSession(ctx, s, func(c *imapclient.Client) error {
		if !fresh {
			again, err := im.reprepareOn(c, todo, refused)
			if err != nil {
				return err
			}
			todo = again
		}
		fresh = false
		type sent struct {
			p   prepared
			cmd *imapclient.AppendCommand
		}
		var inflight []sent
		var sendErr, stop error
		for _, p := range todo {
			if sendErr = im.opts.Throttle.WaitMessage(ctx); sendErr != nil {
				break
			}
			res, err := im.body(p)
			if err != nil {
				stop = err
				break
			}
			// Append into the selected folder, as mailconn.Appender.Select
			// explains; a refused SELECT leaves the APPEND to answer.
			if mb := c.Mailbox(); mb == nil || mb.Name != p.f.name {
				c.Select(p.f.name, nil).Wait()
			}
			cmd := c.Append(p.f.name, res.Size, &imap.AppendOptions{Flags: imapFlags(res.Flags), Time: p.job.msg.InternalDate})
			_, werr := io.Copy(cmd, im.opts.Throttle.Reader(ctx, res.Body))
			res.Body.Close()
			cerr := cmd.Close()
			inflight = append(inflight, sent{p: p, cmd: cmd})
			// A server may refuse a synchronizing literal instead of
			// asking for it (Dovecot does for one over its size limit):
			// that refusal is this message's answer, read below, and the
			// connection goes on.
			if err := errors.Join(werr, cerr); err != nil && mailconn.IsConnectionError(err) {
				sendErr = err
				break
			}
		}
		var connErr error
		var later []storeLater
		for _, x := range inflight {
			data, err := x.cmd.Wait()
			if err != nil && mailconn.IsConnectionError(err) {
				connErr = err
				continue
			}
			if err != nil {
				err = im.refusedBy(x.p, refused, err)
			} else {
				err = im.landedAs(x.p, uint32(data.UID), data.UIDValidity, &later)
			}
			if err != nil && stop == nil {
				stop = err
			}
		}
		if stop != nil {
			return &archiveError{stop}
		}
		if connErr != nil {
			return connErr
		}
		if err := storeFlagsAfter(c, later); err != nil {
			return err
		}
		return sendErr
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		im.failPending(todo, refused, err)
	}
	return nil
}

// prepared is a message whose intent is ready to be written.
type prepared struct {
	job        appendJob
	f          *destFolder
	entry      ManifestEntry
	storeAfter format.Flags
}

// archiveError is a failure of the archive or the manifest: it stops the
// import, where the destination's refusals only skip messages.
type archiveError struct{ err error }

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

// prepare settles what an earlier attempt left of the message, applies
// --dedup, and returns its intent; ok is false when nothing is to be sent.
func (im *importer) prepare(c *imapclient.Client, j appendJob) (prepared, bool, error) {
	f, err := im.folder(c, j.dest)
	if err != nil {
		return prepared{}, false, err
	}
	// A previous attempt, cut with the connection, may have landed.
	if e, ok := im.opts.Manifest.Lookup(j.key); ok {
		if e.Done {
			return prepared{}, false, nil
		}
		landed, err := im.settleFolder(c, f, []ManifestEntry{e})
		if err != nil {
			return prepared{}, false, err
		}
		if len(landed) == 1 {
			im.mu.Lock()
			im.rep.Settled++
			im.mu.Unlock()
			im.opts.Progress.Message(f.name, e.Size, true)
			return prepared{}, false, nil
		}
	}
	if f.present != nil {
		dup, err := im.duplicate(f, j.msg)
		if err != nil {
			return prepared{}, false, &archiveError{err}
		}
		if dup {
			im.mu.Lock()
			im.rep.Duplicates++
			im.mu.Unlock()
			im.opts.Progress.Message(f.name, j.msg.Size, false)
			return prepared{}, false, nil
		}
	}
	res, err := im.opts.Transforms.Apply(j.msg, f.permanentFlags, im.opener(j.msg.ID))
	if err != nil {
		return prepared{}, false, &archiveError{fmt.Errorf("message %s: %w", j.msg.ID, err)}
	}
	if res.Skip != "" {
		im.mu.Lock()
		im.rep.Skipped = append(im.rep.Skipped, Failure{Folder: j.folder.Name, Item: fmt.Sprintf("uid %d", j.msg.UID), Error: res.Skip})
		im.mu.Unlock()
		im.opts.Progress.Message(f.name, j.msg.Size, false)
		return prepared{}, false, nil
	}
	// The intent names the bytes that will be sent, which the settling
	// of a killed run looks for: the stored ones unless a transform may
	// have changed them.
	sent, size := j.msg.ID, res.Size
	if im.opts.Transforms.MayChangeBytes() {
		h := sha256.New()
		n, err := io.Copy(h, res.Body)
		res.Body.Close()
		if err != nil {
			return prepared{}, false, &archiveError{fmt.Errorf("message %s: %w", j.msg.ID, err)}
		}
		copy(sent[:], h.Sum(nil))
		size = n
	} else {
		res.Body.Close()
	}
	im.noteChanges(res.Changes)
	im.mu.Lock()
	uidNext := f.uidNext
	im.mu.Unlock()
	return prepared{job: j, f: f, storeAfter: res.StoreAfter, entry: ManifestEntry{Key: j.key, Blob: j.msg.ID, Sent: sent, Size: size,
		Folder: f.name, UIDValidity: f.uidValidity, UIDNext: uidNext}}, true, nil
}

// body returns what to APPEND for a prepared message: the transforms run
// again (they are pure), and must give the size its intent noted.
func (im *importer) body(p prepared) (*transform.Result, error) {
	res, err := im.opts.Transforms.Apply(p.job.msg, p.f.permanentFlags, im.opener(p.job.msg.ID))
	if err == nil && (res.Skip != "" || res.Size != p.entry.Size) {
		if res.Body != nil {
			res.Body.Close()
		}
		err = fmt.Errorf("transforms gave %d bytes, %d when prepared (%s)", res.Size, p.entry.Size, res.Skip)
	}
	if err != nil {
		return nil, fmt.Errorf("message %s: %w", p.job.msg.ID, err)
	}
	return res, nil
}

// opener reads a stored message for the transforms.
func (im *importer) opener(id format.ID) transform.Opener {
	return func() (io.ReadCloser, error) {
		rc, _, err := im.reader.Open(id)
		return rc, err
	}
}

func (im *importer) noteChanges(changes []string) {
	if len(changes) == 0 {
		return
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.rep.Transformed == nil {
		im.rep.Transformed = map[string]int{}
	}
	for _, c := range changes {
		im.rep.Transformed[c]++
	}
}

// storeLater is a flag to set with STORE after its APPEND (Exchange's
// \Flagged, which it forgets when APPEND sets it).
type storeLater struct {
	folder string
	uid    uint32
	flags  format.Flags
}

func storeFlagsAfter(c *imapclient.Client, later []storeLater) error {
	for _, l := range later {
		if _, err := c.Select(l.folder, nil).Wait(); err != nil {
			return fmt.Errorf("SELECT %q: %w", l.folder, err)
		}
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: imapFlags(l.flags)}
		if err := c.Store(imap.UIDSetNum(imap.UID(l.uid)), store, nil).Close(); err != nil {
			return fmt.Errorf("STORE %q uid %d: %w", l.folder, l.uid, err)
		}
	}
	return nil
}

func imapFlags(fl format.Flags) []imap.Flag {
	out := make([]imap.Flag, len(fl))
	for i, f := range fl {
		out[i] = imap.Flag(f)
	}
	return out
}

// countWork announces each destination folder's messages to Progress.
func (im *importer) countWork() error {
	type work struct{ n, bytes int64 }
	byDest := map[string]*work{}
	var order []string
	err := im.a.ReadSnapshot(im.opts.Snapshot.ID, func(rec format.SnapshotRecord) error {
		m := rec.Message
		if m == nil {
			return nil
		}
		mp := im.mappings[m.Folder]
		if mp.Excluded || mp.Dest == "" {
			return nil
		}
		w := byDest[mp.Dest]
		if w == nil {
			w = &work{}
			byDest[mp.Dest] = w
			order = append(order, mp.Dest)
		}
		w.n++
		w.bytes += m.Size
		return nil
	})
	for _, d := range order {
		im.opts.Progress.MessagesTotal.Add(byDest[d].n)
		im.opts.Progress.Folder(d, byDest[d].n, byDest[d].bytes)
	}
	return err
}
