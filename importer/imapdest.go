package importer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/foldermap"
)

// readDestination asks the destination for its personal namespace and
// folders (with special use where the server has SPECIAL-USE).
func readDestination(c *imapclient.Client, caseInsensitive bool) (foldermap.Destination, error) {
	caps := c.Caps()
	d := foldermap.Destination{CaseInsensitive: caseInsensitive, SpecialUse: caps.Has(imap.CapSpecialUse)}
	if caps.Has(imap.CapNamespace) || caps.Has(imap.CapIMAP4rev2) {
		ns, err := c.Namespace().Wait()
		if err != nil {
			return d, fmt.Errorf("NAMESPACE: %w", err)
		}
		if len(ns.Personal) > 0 {
			d.Namespace.Prefix = ns.Personal[0].Prefix
			if ns.Personal[0].Delim != 0 {
				d.Namespace.Delimiter = string(ns.Personal[0].Delim)
			}
		}
	}
	var opts *imap.ListOptions
	if d.SpecialUse && (caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		return d, fmt.Errorf("LIST: %w", err)
	}
	for _, l := range list {
		f := format.Folder{Name: l.Mailbox}
		if l.Delim != 0 {
			f.Delimiter = string(l.Delim)
			if d.Namespace.Delimiter == "" {
				d.Namespace.Delimiter = f.Delimiter
			}
		}
		for _, a := range l.Attrs {
			if slices.ContainsFunc(specialUseAttrs, func(s imap.MailboxAttr) bool { return strings.EqualFold(string(s), string(a)) }) {
				f.SpecialUse = string(a)
			} else {
				f.Attributes = append(f.Attributes, string(a))
			}
		}
		d.Folders = append(d.Folders, f)
	}
	return d, nil
}

var specialUseAttrs = []imap.MailboxAttr{
	imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts, imap.MailboxAttrFlagged,
	imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash,
}

// createFolders makes the folders the mapping needs, parents first, with
// their special use where the server takes it, and subscribes those the
// source had subscribed. A folder that exists already is fine.
func createFolders(c *imapclient.Client, mappings []foldermap.Mapping) ([]string, error) {
	var created []string
	specialUse := c.Caps().Has(imap.CapCreateSpecialUse)
	for _, fc := range foldermap.ToCreate(mappings) {
		var opts *imap.CreateOptions
		if specialUse && fc.SpecialUse != "" {
			opts = &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttr(fc.SpecialUse)}}
		}
		err := c.Create(fc.Name, opts).Wait()
		if err != nil && !alreadyExists(err) {
			return created, fmt.Errorf("CREATE %q: %w", fc.Name, err)
		}
		if err == nil {
			created = append(created, fc.Name)
		}
	}
	subscribed := map[string]bool{}
	for _, m := range mappings {
		if m.Excluded || m.Dest == "" || !m.Source.Subscribed || subscribed[m.Dest] {
			continue
		}
		subscribed[m.Dest] = true
		if err := c.Subscribe(m.Dest).Wait(); err != nil {
			return created, fmt.Errorf("SUBSCRIBE %q: %w", m.Dest, err)
		}
	}
	return created, nil
}

func alreadyExists(err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return false
	}
	return ie.Code == imap.ResponseCodeAlreadyExists || strings.Contains(strings.ToLower(ie.Text), "already exists")
}
