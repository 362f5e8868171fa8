package importer

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
)

// destFolder is what the import knows of a destination folder: read from
// the server when the run first needs the folder, kept up to date as
// messages land. The manifest's entries for the folder are believed only
// where this says they hold: the same UIDVALIDITY, and their UID among
// those the folder has.
type destFolder struct {
	name        string
	uidValidity uint32
	// uidNext is a lower bound for the UID of any APPEND not yet done:
	// what SELECT said, raised past every UID an APPEND got since.
	uidNext        uint32
	permanentFlags []string
	// alive are the manifest's entries found on the destination, by
	// record key; stale says, by record key, why an entry of the manifest
	// is not believed (the record is restored when appended again).
	alive map[string]ManifestEntry
	stale map[string]string
	// unknown are the folder's messages no entry of the manifest claims
	// (a lost manifest, the same server under another name, mail that
	// came some other way): candidates a new message may already be,
	// indexed by Message-ID and by size, with the hash of their bytes
	// once fetched. claimed are those a record of this run turned out to
	// be.
	mu          sync.Mutex // over unknown (claims, sums)
	unknown     map[uint32]*unknownMsg
	byMessageID map[string][]uint32
	bySize      map[int64][]uint32
}

// unknownMsg is a destination message the manifest does not know.
type unknownMsg struct {
	size  int64
	date  time.Time
	msgID string
	sum   format.ID // of its bytes, line endings aside; zero until fetched
	// binarySum is of its BINARY[] bytes, for messages with NUL.
	binarySum format.ID
	claimed   bool
}

// inspect reads a destination folder: SELECT (EXAMINE when readOnly, for
// plans), the UIDs it holds (one UID SEARCH), which of the manifest's
// entries for it are still there, and the Message-ID and size of the
// messages no entry claims (one UID FETCH).
func inspect(c *imapclient.Client, name string, m *Manifest, readOnly bool) (*destFolder, error) {
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		return nil, fmt.Errorf("SELECT %q: %w", name, err)
	}
	f := &destFolder{name: name, uidValidity: sel.UIDValidity, uidNext: uint32(sel.UIDNext),
		alive: map[string]ManifestEntry{}, stale: map[string]string{}, unknown: map[uint32]*unknownMsg{}}
	for _, pf := range sel.PermanentFlags {
		f.permanentFlags = append(f.permanentFlags, string(pf))
	}
	var uids []imap.UID
	if sel.NumMessages > 0 {
		var opts *imap.SearchOptions
		if c.Caps().Has(imap.CapESearch) || c.Caps().Has(imap.CapIMAP4rev2) {
			opts = &imap.SearchOptions{ReturnAll: true}
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{}, opts).Wait()
		if err != nil {
			return nil, fmt.Errorf("folder %q: UID SEARCH: %w", name, err)
		}
		uids = data.AllUIDs()
		slices.Sort(uids)
	}
	present := func(uid uint32) bool {
		_, ok := slices.BinarySearch(uids, imap.UID(uid))
		return ok
	}
	claimed := map[uint32]bool{}
	var entries []ManifestEntry
	if m != nil {
		entries = m.In(name)
	}
	// The reasons are per folder, so that a report counts the restored
	// messages of a folder under one of them.
	recreated := fmt.Sprintf("folder %q was recreated (UIDVALIDITY changed)", name)
	noUID := fmt.Sprintf("the server gave no UID in %q (no UIDPLUS): looked for by content", name)
	gone := fmt.Sprintf("gone from %q (expunged since the import)", name)
	for _, e := range entries {
		switch {
		case e.UIDValidity != f.uidValidity:
			f.stale[e.Key] = recreated
		case e.UID == 0:
			f.stale[e.Key] = noUID
		case !present(e.UID) || claimed[e.UID]:
			f.stale[e.Key] = gone
		default:
			claimed[e.UID] = true
			f.alive[e.Key] = e
		}
	}
	var unknown []uint32
	for _, u := range uids {
		if !claimed[uint32(u)] {
			unknown = append(unknown, uint32(u))
		}
	}
	if err := f.readUnknown(c, unknown); err != nil {
		return nil, err
	}
	return f, nil
}

// readUnknown fetches the Message-ID, size and date of the messages no
// manifest entry claims.
func (f *destFolder) readUnknown(c *imapclient.Client, uids []uint32) error {
	f.byMessageID, f.bySize = map[string][]uint32{}, map[int64][]uint32{}
	for _, set := range uidSets(uids) {
		if err := f.readUnknownSet(c, set); err != nil {
			return err
		}
	}
	return nil
}

func (f *destFolder) readUnknownSet(c *imapclient.Client, uids imap.UIDSet) error {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	cmd := c.Fetch(uids, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return fmt.Errorf("folder %q: FETCH: %w", f.name, err)
		}
		u := &unknownMsg{size: buf.RFC822Size, date: buf.InternalDate, msgID: headerMessageID(buf.FindBodySection(section))}
		uid := uint32(buf.UID)
		f.unknown[uid] = u
		if u.msgID != "" {
			f.byMessageID[u.msgID] = append(f.byMessageID[u.msgID], uid)
		}
		f.bySize[u.size] = append(f.bySize[u.size], uid)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("folder %q: FETCH: %w", f.name, err)
	}
	return nil
}

// hasUnknown reports whether the folder holds messages the manifest does
// not know, which new messages must be checked against.
func (f *destFolder) hasUnknown() bool { return len(f.unknown) > 0 }
