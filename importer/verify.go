package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// ErrNoRun means the manifest records no import of the snapshot asked
// for, so there is nothing to verify against.
var ErrNoRun = errors.New("the manifest records no import of this account into this destination")

// VerifyOptions configure a verify: the destination and its manifest,
// which says what each record became (folder, UID, bytes and flags sent,
// or skipped and why), so no import option needs repeating.
type VerifyOptions struct {
	Dial        func(ctx context.Context) (*imapclient.Client, error)
	Destination string
	Manifest    *Manifest
	// Account selects the account's latest import ("" for the latest of
	// any); Snapshot, when not zero, an earlier snapshot of it.
	Account  string
	Snapshot format.ID
	// Quick compares UID, size, flags and date only; the default fetches
	// every message and compares the SHA-256 of its bytes with what was
	// sent.
	Quick   bool
	Retries int
}

// VerifyReport compares a destination with an imported snapshot.
type VerifyReport struct {
	Account     string        `json:"account"`
	Snapshot    string        `json:"snapshot"`
	Destination string        `json:"destination"`
	Quick       bool          `json:"quick"`
	Folders     []FolderCheck `json:"folders"`
	Duration    time.Duration `json:"duration_ns"`
}

// FolderCheck is what verify found in one destination folder.
type FolderCheck struct {
	Folder string `json:"folder"`
	// Expected counts the records that should be in the folder, Verified
	// those found as they should be.
	Expected int `json:"expected"`
	Verified int `json:"verified"`
	Found    int `json:"found"`
	// Missing are records not in the folder; Changed those there with
	// other bytes (the reason says what changed where it can tell),
	// flags or date; Skipped those the import left out on purpose;
	// Extra messages of the folder no record accounts for.
	Missing []Item   `json:"missing,omitempty"`
	Changed []Item   `json:"changed,omitempty"`
	Skipped []Item   `json:"skipped,omitempty"`
	Extra   []string `json:"extra,omitempty"`
}

// OK reports whether the destination holds exactly what was imported.
func (r *VerifyReport) OK() bool {
	for _, f := range r.Folders {
		if len(f.Missing)+len(f.Changed)+len(f.Extra) > 0 {
			return false
		}
	}
	return true
}

// want is a record as the destination should hold it.
type want struct {
	item  Item
	entry ManifestEntry
	date  time.Time
	seen  bool
}

// VerifyIMAP checks the destination against the manifest's latest import
// of the account: every record of that snapshot imported is in its
// folder at its UID, with the bytes sent (unless Quick), its flags and
// internal date. It changes nothing (folders are EXAMINEd). An error means
// the check could not be made.
func VerifyIMAP(ctx context.Context, a *archive.Archive, opts VerifyOptions) (*VerifyReport, error) {
	start := time.Now()
	lock, err := a.LockShared("verify")
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if opts.Retries <= 0 {
		opts.Retries = 6
	}
	run, ok := opts.Manifest.LastRun(opts.Account)
	if !ok || (!opts.Snapshot.IsZero() && run.Snapshot != opts.Snapshot) {
		return nil, fmt.Errorf("%w (manifest %s)", ErrNoRun, opts.Manifest.Path())
	}
	byDest, order, skipped, err := expectedByFolder(a, run, opts.Manifest)
	if err != nil {
		return nil, err
	}
	rd := &lazyReader{a: a}
	defer rd.close()
	rep := &VerifyReport{Account: run.Account, Snapshot: run.Snapshot.String(), Destination: opts.Destination, Quick: opts.Quick}
	s := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer s.Close()
	for _, dest := range order {
		var fc FolderCheck
		err := s.Do(ctx, func(c *imapclient.Client) error {
			var err error
			fc, err = checkFolder(c, rd, dest, byDest[dest], opts.Quick)
			return err
		})
		if err != nil {
			return rep, err
		}
		fc.Skipped = skipped[dest]
		rep.Folders = append(rep.Folders, fc)
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// expectedByFolder reads the run's snapshot: what each destination folder
// should hold, by UID (records never imported get UID 0), and what was
// skipped on purpose.
func expectedByFolder(a *archive.Archive, run Run, m *Manifest) (map[string][]*want, []string, map[string][]Item, error) {
	dest := map[string]string{}
	var order []string
	for _, f := range run.Folders {
		if f.Dest == "" {
			continue
		}
		dest[f.Source] = f.Dest
		if !slices.Contains(order, f.Dest) {
			order = append(order, f.Dest)
		}
	}
	out := map[string][]*want{}
	skipped := map[string][]Item{}
	folders := map[string]format.Folder{}
	err := a.ReadSnapshot(run.Snapshot, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			folders[f.Name] = *f
			return nil
		}
		msg := *rec.Message
		d, ok := dest[msg.Folder]
		if !ok {
			return nil
		}
		key := RecordKey(run.Account, folders[msg.Folder], msg)
		it := Item{Folder: msg.Folder, Dest: d, UID: msg.UID, UIDL: msg.UIDL, Message: msg.ID.String()}
		e, ok := m.Lookup(key, d)
		switch {
		case ok && e.Skip != "":
			it.Reason = e.Skip
			skipped[d] = append(skipped[d], it)
		case ok && e.Done:
			out[d] = append(out[d], &want{item: it, entry: e, date: msg.InternalDate})
		default:
			it.Reason = "never imported (no record of it in the manifest)"
			out[d] = append(out[d], &want{item: it})
		}
		return nil
	})
	return out, order, skipped, err
}

// checkFolder compares one destination folder with what it should hold.
func checkFolder(c *imapclient.Client, rd *lazyReader, dest string, wants []*want, quick bool) (FolderCheck, error) {
	fc := FolderCheck{Folder: dest, Expected: len(wants)}
	sel, err := c.Select(dest, &imap.SelectOptions{ReadOnly: true}).Wait()
	var ie *imap.Error
	if errors.As(err, &ie) {
		for _, w := range wants {
			w.item.Reason = fmt.Sprintf("folder %q cannot be selected: %v", dest, err)
			fc.Missing = append(fc.Missing, w.item)
		}
		return fc, nil
	}
	if err != nil {
		return fc, err
	}
	byUID := map[uint32]*want{}
	for _, w := range wants {
		switch {
		case w.entry.UID == 0 && w.item.Reason != "":
		case w.entry.UID == 0:
			w.item.Reason = "the server gave no UID when it was appended (no UIDPLUS): cannot be found"
		case w.entry.UIDValidity != sel.UIDValidity:
			w.item.Reason = fmt.Sprintf("folder recreated since the import (UIDVALIDITY %d, now %d)", w.entry.UIDValidity, sel.UIDValidity)
		default:
			byUID[w.entry.UID] = w
		}
	}
	if sel.NumMessages > 0 {
		if err := fetchAndCompare(c, rd, &fc, byUID, quick); err != nil {
			return fc, err
		}
	}
	for _, w := range wants {
		if !w.seen {
			if w.item.Reason == "" {
				w.item.Reason = fmt.Sprintf("UID %d is not in the folder", w.entry.UID)
			}
			fc.Missing = append(fc.Missing, w.item)
		}
	}
	return fc, nil
}

// fetchAndCompare streams the folder's messages (bodies too unless quick)
// and compares each with the record at its UID.
func fetchAndCompare(c *imapclient.Client, rd *lazyReader, fc *FolderCheck, byUID map[uint32]*want, quick bool) error {
	opts := &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true}
	section := &imap.FetchItemBodySection{Peek: true}
	if !quick {
		opts.BodySection = []*imap.FetchItemBodySection{section}
	}
	cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, opts)
	var bodyErr error
	retell := map[int]*want{} // changed items whose bytes differ, by index
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid uint32
		var size int64
		var flags []string
		var date time.Time
		var sum format.ID
		hashed := false
		for it := msg.Next(); it != nil; it = msg.Next() {
			switch it := it.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(it.UID)
			case imapclient.FetchItemDataRFC822Size:
				size = it.Size
			case imapclient.FetchItemDataFlags:
				for _, f := range it.Flags {
					flags = append(flags, string(f))
				}
			case imapclient.FetchItemDataInternalDate:
				date = it.Time
			case imapclient.FetchItemDataBodySection:
				if it.Literal != nil {
					var err error
					if sum, _, err = format.SumReader(it.Literal); err != nil && bodyErr == nil {
						bodyErr = err
					}
					hashed = true
				}
			}
		}
		fc.Found++
		w := byUID[uid]
		if w == nil || w.seen {
			fc.Extra = append(fc.Extra, fmt.Sprintf("uid %d (%d bytes)", uid, size))
			continue
		}
		w.seen = true
		var why []string
		switch {
		case size != w.entry.Size:
			why = append(why, fmt.Sprintf("size %d, %d was sent", size, w.entry.Size))
		case hashed && sum != w.entry.Sent:
			why = append(why, "bytes differ")
		}
		got := format.NormalizeFlags(withoutRecent(flags))
		wantFlags := format.NormalizeFlags(withoutRecent(w.entry.Flags))
		if !slices.Equal(got, wantFlags) {
			why = append(why, fmt.Sprintf("flags %v, want %v", got, wantFlags))
		}
		// IMAP dates have whole seconds; a Maildir's mtime may not.
		if !date.IsZero() && !w.date.IsZero() && date.Unix() != w.date.Unix() {
			why = append(why, fmt.Sprintf("internal date %s, want %s", date.UTC().Format(time.RFC3339), w.date.UTC().Format(time.RFC3339)))
		}
		if len(why) == 0 {
			fc.Verified++
			continue
		}
		w.item.Reason = strings.Join(why, "; ")
		if why[0] == "bytes differ" {
			retell[len(fc.Changed)] = w
		}
		fc.Changed = append(fc.Changed, w.item)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("verify %q: FETCH: %w", fc.Folder, err)
	}
	if bodyErr != nil {
		return fmt.Errorf("verify %q: FETCH: %w", fc.Folder, bodyErr)
	}
	// Look again at the messages whose bytes differ: one sent in a
	// BINARY literal is compared as BINARY[] serves it (BODY[] cannot
	// carry its NUL bytes); for the others say what changed, where it can
	// be told: the server's copy against the archive's, line endings
	// aside, header and body apart.
	kept := fc.Changed[:0]
	for i, it := range fc.Changed {
		w, ok := retell[i]
		if !ok {
			kept = append(kept, it)
			continue
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(it.Reason, "bytes differ"), "; ")
		if w.entry.Binary {
			sum, err := fetchSum(c, fc.Folder, w.entry.UID, true)
			if err != nil {
				return err
			}
			if sum == w.entry.Sent {
				if rest == "" {
					fc.Verified++
				} else {
					it.Reason = rest
					kept = append(kept, it)
				}
				continue
			}
		}
		kind, err := whatChanged(c, rd, fc.Folder, w.entry)
		if err != nil {
			return err
		}
		it.Reason = "bytes differ (" + kind + ")"
		if rest != "" {
			it.Reason += "; " + rest
		}
		kept = append(kept, it)
	}
	fc.Changed = kept
	return nil
}

func withoutRecent(flags []string) []string {
	return slices.DeleteFunc(slices.Clone(flags), func(f string) bool { return f == `\Recent` })
}

// maxCompare bounds the message verify holds to say what changed in it.
const maxCompare = 32 << 20

// whatChanged fetches one changed message again and tells how it differs
// from the archive's copy: only line endings, headers, or the body.
func whatChanged(c *imapclient.Client, rd *lazyReader, folder string, e ManifestEntry) (string, error) {
	if e.Size > maxCompare {
		return "too large to compare", nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(e.UID)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return "", fmt.Errorf("verify %q: FETCH: %w", folder, err)
	}
	if len(msgs) != 1 {
		return "gone while verifying", nil
	}
	r, err := rd.reader()
	if err != nil {
		return "", err
	}
	rc, n, err := r.Open(e.Blob)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if n > maxCompare {
		return "too large to compare", nil
	}
	orig, err := io.ReadAll(rc)
	if err != nil {
		return "", err
	}
	return changeKind(orig, msgs[0].FindBodySection(section)), nil
}

// changeKind tells how the destination's copy got differs from the
// archive's orig: only in line endings, in the header section, or in the
// body.
func changeKind(orig, got []byte) string {
	norm := func(b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	}
	o, g := norm(orig), norm(got)
	if bytes.Equal(o, g) {
		return "line endings only"
	}
	split := func(b []byte) ([]byte, []byte) {
		if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
			return b[:i], b[i+2:]
		}
		return b, nil
	}
	oh, ob := split(o)
	gh, gb := split(g)
	switch {
	case bytes.Equal(ob, gb):
		return "headers changed, body identical"
	case bytes.Equal(oh, gh):
		return "body changed, headers identical"
	}
	return "headers and body changed"
}

// lazyReader opens the archive's messages only when verify first needs
// one (to say what changed in a message): loading the index is most of
// the cost of a verify that finds nothing wrong.
type lazyReader struct {
	a  *archive.Archive
	rd *archive.Reader
}

func (l *lazyReader) reader() (*archive.Reader, error) {
	if l.rd == nil {
		var err error
		if l.rd, _, err = l.a.OpenReader(); err != nil {
			return nil, err
		}
	}
	return l.rd, nil
}

func (l *lazyReader) close() {
	if l.rd != nil {
		l.rd.Close()
	}
}
