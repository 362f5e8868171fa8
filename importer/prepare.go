package importer

import (
	"crypto/sha256"
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
	job        appendJob
	f          *destFolder
	entry      ManifestEntry
	storeAfter format.Flags
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
	res, err := im.opts.Transforms.Apply(j.msg, f.permanentFlags, im.opener(j.msg.ID))
	if err != nil {
		im.damaged(j, err)
		return prepared{}, false, nil
	}
	if res.Skip != "" {
		return prepared{}, false, im.skip(j, f, res.Skip)
	}
	if res.HasNUL && !c.Caps().Has(imap.CapBinary) {
		res.Body.Close()
		im.fail(j, "the message holds NUL bytes, which IMAP takes only in a BINARY literal (RFC 3516), and the server has no BINARY")
		return prepared{}, false, nil
	}
	// The intent names the bytes that will be sent, which settling and
	// verify look for: the stored ones unless something changed them.
	sent, size := j.msg.ID, res.Size
	if len(res.Changes) > 0 || size != j.msg.Size {
		h := sha256.New()
		n, err := io.Copy(h, res.Body)
		res.Body.Close()
		if err != nil {
			im.damaged(j, err)
			return prepared{}, false, nil
		}
		copy(sent[:], h.Sum(nil))
		size = n
	} else {
		res.Body.Close()
	}
	flags := format.NormalizeFlags(append(append([]string(nil), res.Flags...), res.StoreAfter...))
	im.mu.Lock()
	uidNext := f.uidNext
	im.mu.Unlock()
	entry := ManifestEntry{Key: j.key, Folder: f.name, Blob: j.msg.ID, Sent: sent, Size: size, Binary: res.HasNUL, Flags: flags,
		UIDValidity: f.uidValidity, UIDNext: uidNext}
	if dup, err := im.alreadyHeld(c, f, j, entry); dup || err != nil {
		return prepared{}, false, err
	}
	im.noteChanges(res.Changes)
	return prepared{job: j, f: f, storeAfter: res.StoreAfter, entry: entry}, true, nil
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

// skipKind is the key a skip reason is counted under.
func skipKind(reason string) string {
	if strings.Contains(reason, "--max-size") {
		return "max_size"
	}
	return "other"
}
