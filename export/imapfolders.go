package export

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
)

var specialUses = []imap.MailboxAttr{
	imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts, imap.MailboxAttrFlagged,
	imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash,
}

// listPattern runs LIST "" pattern, asking for subscriptions and special
// use where the server can tell them. The second result is false when the
// server cannot say which folders are subscribed (no LIST-EXTENDED, and
// go-imap has no LSUB): foldersOf then takes every folder as subscribed,
// since a folder nobody can see after import looks lost.
func listPattern(c *imapclient.Client, pattern string) ([]*imap.ListData, bool, error) {
	caps := c.Caps()
	extended := caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)
	var opts *imap.ListOptions
	if extended {
		opts = &imap.ListOptions{ReturnSubscribed: true}
		if caps.Has(imap.CapSpecialUse) {
			opts.ReturnSpecialUse = true
		}
	}
	list, err := c.List("", pattern, opts).Collect()
	if err != nil {
		return nil, false, fmt.Errorf("LIST: %w", err)
	}
	return list, extended, nil
}

// repeatedName returns a name that two LIST responses give.
func repeatedName(list []*imap.ListData) (string, bool) {
	seen := make(map[string]bool, len(list))
	for _, l := range list {
		if seen[l.Mailbox] {
			return l.Mailbox, true
		}
		seen[l.Mailbox] = true
	}
	return "", false
}

// foldersOf turns LIST responses into folders, INBOX first, then by name.
func foldersOf(list []*imap.ListData, extended bool) []format.Folder {
	var out []format.Folder
	seen := map[string]bool{}
	for _, l := range list {
		if seen[l.Mailbox] {
			continue
		}
		seen[l.Mailbox] = true
		f := format.Folder{Name: l.Mailbox, Subscribed: !extended}
		if l.Delim != 0 {
			f.Delimiter = string(l.Delim)
		}
		for _, a := range l.Attrs {
			switch {
			case a == imap.MailboxAttrSubscribed:
				f.Subscribed = true
			case slices.Contains(specialUses, imap.MailboxAttr(canonicalAttr(a))):
				f.SpecialUse = canonicalAttr(a)
			case strings.EqualFold(string(a), string(imap.MailboxAttrMarked)), strings.EqualFold(string(a), string(imap.MailboxAttrUnmarked)):
				// Volatile state, not folder metadata.
			default:
				f.Attributes = append(f.Attributes, string(a))
			}
		}
		// A \NonExistent folder (RFC 5258) is a parent that exists only
		// through its children: keep it as \Noselect, as it was shown.
		if f.HasAttribute(string(imap.MailboxAttrNonExistent)) && !f.HasAttribute(string(imap.MailboxAttrNoSelect)) {
			f.Attributes = append(f.Attributes, string(imap.MailboxAttrNoSelect))
		}
		out = append(out, f)
	}
	// INBOX first, then by name, so that snapshots list folders stably.
	slices.SortFunc(out, func(a, b format.Folder) int {
		ai, bi := strings.EqualFold(a.Name, "INBOX"), strings.EqualFold(b.Name, "INBOX")
		switch {
		case ai && !bi:
			return -1
		case bi && !ai:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func canonicalAttr(a imap.MailboxAttr) string {
	for _, s := range specialUses {
		if strings.EqualFold(string(a), string(s)) {
			return string(s)
		}
	}
	return string(a)
}

// FolderFilter selects folders by their UTF-8 names, as imapsync's
// --include and --exclude do: with includes, only folders matching one of
// them; never a folder matching an exclude.
type FolderFilter struct {
	Include, Exclude []*regexp.Regexp
}

// Match reports whether the folder is selected.
func (ff FolderFilter) Match(name string) bool {
	for _, re := range ff.Exclude {
		if re.MatchString(name) {
			return false
		}
	}
	if len(ff.Include) == 0 {
		return true
	}
	for _, re := range ff.Include {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// personalNamespace returns the server's first personal namespace (RFC
// 2342), or nil when the server has no NAMESPACE: importers then infer the
// prefix from the folder names.
func personalNamespace(c *imapclient.Client) (*format.Namespace, error) {
	if !c.Caps().Has(imap.CapNamespace) && !c.Caps().Has(imap.CapIMAP4rev2) {
		return nil, nil
	}
	data, err := c.Namespace().Wait()
	if err != nil {
		return nil, fmt.Errorf("NAMESPACE: %w", err)
	}
	if len(data.Personal) == 0 {
		return nil, nil
	}
	p := data.Personal[0]
	ns := &format.Namespace{Prefix: p.Prefix}
	if p.Delim != 0 {
		ns.Delimiter = string(p.Delim)
	}
	return ns, nil
}
