package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/textproto"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/importer/transform"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// FolderCheck is what verify found in one destination folder.
type FolderCheck struct {
	Folder   string   `json:"folder"`
	Expected int      `json:"expected"`
	Found    int      `json:"found"`
	Missing  []string `json:"missing,omitempty"`
	Extra    []string `json:"extra,omitempty"`
	Differ   []string `json:"differ,omitempty"` // present, with other flags or date
}

// VerifyReport compares a destination with a snapshot, folder by folder.
type VerifyReport struct {
	Folders []FolderCheck `json:"folders"`
}

// OK reports whether the destination holds exactly the snapshot.
func (r *VerifyReport) OK() bool {
	for _, f := range r.Folders {
		if len(f.Missing)+len(f.Extra)+len(f.Differ) > 0 {
			return false
		}
	}
	return true
}

// expected is a snapshot record as the destination should hold it.
type expected struct {
	key   string
	msg   format.Message
	uid   uint32 // from the manifest; 0 if unknown
	msgID string
}

type found struct {
	uid   uint32
	size  int64
	flags []string
	date  string
	msgID string
	used  bool
}

// VerifyIMAP checks that every record of the snapshot is on the destination
// in its mapped folder, with its flags and internal date: found by the UID
// the manifest recorded, else by Message-ID and size. It changes nothing.
func VerifyIMAP(ctx context.Context, a *archive.Archive, opts IMAPOptions) (*VerifyReport, error) {
	opts.defaults()
	s := &mailconn.Session{Dial: opts.Dial, Retries: opts.Retries}
	defer s.Close()
	idx, _, err := a.Index()
	if err != nil {
		return nil, err
	}
	rd, err := a.NewReader(idx)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var rep *VerifyReport
	err = s.Do(ctx, func(c *imapclient.Client) error {
		mappings, err := mapFolders(c, a, opts)
		if err != nil {
			return err
		}
		byDest, order, err := expectedByFolder(a, rd, opts, mappings)
		if err != nil {
			return err
		}
		rep = &VerifyReport{}
		for _, dest := range order {
			fc, err := checkFolder(c, dest, byDest[dest], &opts.Transforms.Flags)
			if err != nil {
				return err
			}
			rep.Folders = append(rep.Folders, fc)
		}
		return nil
	})
	return rep, err
}

func expectedByFolder(a *archive.Archive, rd *archive.Reader, opts IMAPOptions, mappings []foldermap.Mapping) (map[string][]expected, []string, error) {
	dest := map[string]string{}
	var order []string
	for _, m := range mappings {
		if m.Excluded || m.Dest == "" || m.Source.HasAttribute(`\Noselect`) || m.Source.HasAttribute(`\NonExistent`) {
			continue
		}
		dest[m.Source.Name] = m.Dest
		if !slices.Contains(order, m.Dest) {
			order = append(order, m.Dest)
		}
	}
	out := map[string][]expected{}
	folders := map[string]format.Folder{}
	err := a.ReadSnapshot(opts.Snapshot.ID, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			folders[f.Name] = *f
			return nil
		}
		m := *rec.Message
		d, ok := dest[m.Folder]
		if !ok {
			return nil
		}
		e := expected{key: RecordKey(opts.Snapshot.Account, folders[m.Folder], m), msg: m}
		if opts.Manifest != nil {
			if me, ok := opts.Manifest.Lookup(e.key); ok && me.Done {
				e.uid = me.UID
			}
		}
		if e.uid == 0 {
			id, err := messageID(rd, m.ID)
			if err != nil {
				return err
			}
			e.msgID = id
		}
		out[d] = append(out[d], e)
		return nil
	})
	return out, order, err
}

// messageID reads a stored message's Message-ID header.
func messageID(rd *archive.Reader, id format.ID) (string, error) {
	rc, _, err := rd.Open(id)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h, err := textproto.NewReader(bufio.NewReader(io.LimitReader(rc, 1<<20))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", nil
	}
	return strings.TrimSpace(h.Get("Message-Id")), nil
}

func checkFolder(c *imapclient.Client, dest string, want []expected, ft *transform.FlagRules) (FolderCheck, error) {
	fc := FolderCheck{Folder: dest, Expected: len(want)}
	// SELECT, not EXAMINE: only a read-write selection reports the
	// PERMANENTFLAGS that decided which keywords the import could keep.
	sel, err := c.Select(dest, nil).Wait()
	if err != nil {
		for _, e := range want {
			fc.Missing = append(fc.Missing, describe(e))
		}
		return fc, nil
	}
	var permanent []string
	for _, pf := range sel.PermanentFlags {
		permanent = append(permanent, string(pf))
	}
	byUID := map[uint32]*found{}
	var all []*found
	if sel.NumMessages > 0 {
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true,
			BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fc, fmt.Errorf("verify %q: FETCH: %w", dest, err)
		}
		for _, m := range msgs {
			f := &found{uid: uint32(m.UID), size: m.RFC822Size, date: m.InternalDate.UTC().Format("2006-01-02T15:04:05Z")}
			for _, fl := range m.Flags {
				f.flags = append(f.flags, string(fl))
			}
			if hdr := m.FindBodySection(section); hdr != nil {
				h, _ := textproto.NewReader(bufio.NewReader(strings.NewReader(string(hdr)))).ReadMIMEHeader()
				f.msgID = strings.TrimSpace(h.Get("Message-Id"))
			}
			byUID[f.uid] = f
			all = append(all, f)
		}
	}
	fc.Found = len(all)
	for _, e := range want {
		f := byUID[e.uid]
		if f != nil && f.used {
			f = nil
		}
		if f == nil && e.msgID != "" {
			for _, cand := range all {
				if !cand.used && cand.msgID == e.msgID && cand.size == e.msg.Size {
					f = cand
					break
				}
			}
		}
		if f == nil {
			fc.Missing = append(fc.Missing, describe(e))
			continue
		}
		f.used = true
		expectFlags, _ := ft.Apply(e.msg.Flags, permanent)
		wantFlags := fmt.Sprint(expectFlags)
		gotFlags := fmt.Sprint(format.NormalizeFlags(f.flags))
		wantDate := e.msg.InternalDate.UTC().Format("2006-01-02T15:04:05Z")
		if wantFlags != gotFlags || wantDate != f.date {
			fc.Differ = append(fc.Differ, fmt.Sprintf("%s: flags %s, want %s; date %s, want %s", describe(e), gotFlags, wantFlags, f.date, wantDate))
		}
	}
	for _, f := range all {
		if !f.used {
			fc.Extra = append(fc.Extra, fmt.Sprintf("uid %d (%d bytes, Message-ID %s)", f.uid, f.size, f.msgID))
		}
	}
	return fc, nil
}

func describe(e expected) string {
	s := fmt.Sprintf("source %q uid %d (%s, %d bytes)", e.msg.Folder, e.msg.UID, e.msg.ID.Short(), e.msg.Size)
	if e.msg.UIDL != "" {
		s = fmt.Sprintf("source %q UIDL %s (%s, %d bytes)", e.msg.Folder, e.msg.UIDL, e.msg.ID.Short(), e.msg.Size)
	}
	return s
}
