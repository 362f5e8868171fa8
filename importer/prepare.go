package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/transform"
)

// prepared is a message whose intent is ready to be written.
type prepared struct {
	job   appendJob
	f     *destFolder
	entry ManifestEntry
	// flags go with the APPEND, storeAfter in a STORE after it.
	flags, storeAfter format.Flags
	// data, when not nil, is what to send, kept from preparing so that
	// a small message is read from the archive once (see keepBytes).
	data []byte
}

// prepareAll prepares jobs on c and writes the intents of those to send,
// one fsync for them all. Manifest failures come back as errStop.
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
		return nil, &errStop{err}
	}
	return ready, nil
}

// prepare decides what becomes of one message: nothing when it landed in
// an earlier attempt of this run, skipped by the transforms, failed when
// the archive cannot give it back or the server cannot take its bytes,
// a duplicate when the destination folder holds it already unknown to the
// manifest; else its intent, with the hash and size of the bytes to send.
// Only connection failures (and errStop) are errors.
func (im *importer) prepare(c *imapclient.Client, j appendJob) (prepared, bool, error) {
	f, err := im.folder(c, j.dest)
	var ie *imap.Error
	if errors.As(err, &ie) {
		im.fail(j, fmt.Sprintf("destination folder %q: %v", j.dest, err))
		return prepared{}, false, nil
	}
	if err != nil {
		return prepared{}, false, err
	}
	if e, ok := im.opts.Manifest.Lookup(j.key, f.name); ok && e.Done && !im.isStale(f, j.key) {
		return prepared{}, false, nil // landed in an earlier attempt of this run
	}
	r := j.read
	if r == nil || r.folder != f {
		r = im.read(j.msg, f)
	}
	switch {
	case r.err != nil:
		im.damaged(j, r.err)
		return prepared{}, false, nil
	case r.skip != "":
		return prepared{}, false, im.skip(j, f, r.skip)
	case r.hasNUL && !c.Caps().Has(imap.CapBinary):
		im.fail(j, "the message holds NUL bytes, which IMAP takes only in a BINARY literal (RFC 3516), and the server has no BINARY")
		return prepared{}, false, nil
	}
	flags := format.NormalizeFlags(append(append([]string(nil), r.flags...), r.storeAfter...))
	im.mu.Lock()
	uidNext := f.uidNext
	im.mu.Unlock()
	entry := ManifestEntry{Key: j.key, Folder: f.name, Blob: j.msg.ID, Sent: r.sent, Size: r.size, Binary: r.hasNUL, Flags: flags,
		UIDValidity: f.uidValidity, UIDNext: uidNext}
	if dup, err := im.alreadyHeld(c, f, j, entry); dup || err != nil {
		return prepared{}, false, err
	}
	im.noteChanges(r.changes)
	return prepared{job: j, f: f, flags: r.flags, storeAfter: r.storeAfter, entry: entry, data: r.data}, true, nil
}

// readMessage is a message read through the transforms for one destination
// folder: what prepare needs to write its intent, and for a small message
// the bytes to send, so that it is read from the archive once.
type readMessage struct {
	folder            *destFolder
	flags, storeAfter format.Flags
	changes           []transform.Change
	hasNUL            bool
	// size and sent are the length and SHA-256 of the bytes to send.
	size int64
	sent format.ID
	data []byte // nil for a message over keepMessage
	skip string
	err  error // the archive could not give the message back
}

// keepMessage bounds the messages whose bytes are kept from reading to
// sending; with a batch being sent and one queued, at most 128 are.
const keepMessage = 128 << 10

// read runs the transforms over a message for folder f and learns the
// size and hash of what will be sent. It needs no connection, so the
// snapshot's reader runs it ahead of the workers, while they send.
func (im *importer) read(m format.Message, f *destFolder) *readMessage {
	res, err := im.opts.Transforms.Apply(m, f.permanentFlags, im.opener(m.ID))
	if err != nil {
		return &readMessage{folder: f, err: err}
	}
	if res.Skip != "" {
		return &readMessage{folder: f, skip: res.Skip}
	}
	r := &readMessage{folder: f, flags: res.Flags, storeAfter: res.StoreAfter, changes: res.Changes, hasNUL: res.HasNUL, size: res.Size, sent: m.ID}
	// The intent names the bytes that will be sent, which settling and
	// verify look for: the stored ones unless something changed them.
	changed := len(res.Changes) > 0 || res.Size != m.Size
	switch {
	case res.Size <= keepMessage:
		r.data = make([]byte, res.Size)
		_, r.err = io.ReadFull(res.Body, r.data)
		if r.err == nil && changed {
			r.sent = format.Sum(r.data)
		}
	case changed:
		r.sent, r.size, r.err = format.SumReader(res.Body)
	}
	res.Body.Close()
	return r
}

// alreadyHeld looks for the message among the destination folder's
// messages the manifest does not know; one found is recorded as this
// record's and counted as a duplicate skipped.
func (im *importer) alreadyHeld(c *imapclient.Client, f *destFolder, j appendJob, e ManifestEntry) (bool, error) {
	if !f.hasUnknown() {
		return false, nil
	}
	msgID, err := messageID(im.reader, j.msg.ID)
	if err != nil {
		im.damaged(j, err)
		return true, nil
	}
	var uid uint32
	if im.opts.DedupMessageID {
		uid = f.findByMessageID(msgID, e.Size, j.msg)
	} else if uid, err = f.findCopy(c, msgID, e.Size, e.Sent, e.Binary); err != nil {
		return false, err
	}
	if uid == 0 {
		return false, nil
	}
	e.UID = uid
	if err := im.opts.Manifest.Found(e); err != nil {
		return false, &errStop{err}
	}
	im.mu.Lock()
	im.rep.DuplicatesSkipped++
	delete(f.stale, j.key)
	im.mu.Unlock()
	im.opts.Progress.Message(f.name, j.msg.Size, false)
	return true, nil
}

// skip reports a message the transforms left out, and records it so that
// verify lists it as SKIPPED rather than missing.
func (im *importer) skip(j appendJob, f *destFolder, reason string) error {
	im.mu.Lock()
	im.rep.Skipped = append(im.rep.Skipped, item(j, reason))
	if im.rep.SkippedByReason == nil {
		im.rep.SkippedByReason = map[string]int{}
	}
	im.rep.SkippedByReason[skipKind(reason)]++
	im.mu.Unlock()
	im.opts.Progress.Message(f.name, j.msg.Size, false)
	if err := im.opts.Manifest.Skipped(j.key, f.name, reason); err != nil {
		return &errStop{err}
	}
	return nil
}

func (im *importer) isStale(f *destFolder, key string) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	return f.stale[key] != ""
}

// body returns what to APPEND for a prepared message: the bytes kept, or
// else the transforms run again (they are pure), which must give the size
// its intent noted.
func (im *importer) body(p prepared) (*transform.Result, error) {
	if p.data != nil {
		return &transform.Result{Flags: p.flags, StoreAfter: p.storeAfter, Body: io.NopCloser(bytes.NewReader(p.data)), Size: int64(len(p.data))}, nil
	}
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

// skipKind is the key a skip reason is counted under.
func skipKind(reason string) string {
	switch {
	case strings.Contains(reason, "--max-size"):
		return "max_size"
	case strings.Contains(reason, "APPENDLIMIT"):
		return "append_limit"
	}
	return "other"
}
