package foldermap

import (
	"fmt"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// wellKnownFolders are the names servers and clients give special folders,
// per use (RFC 6154), in order of preference. They find the destination's
// folder for a use when the destination has no SPECIAL-USE data, and the
// source's special folders when the snapshot has none. Names with a "/"
// are two levels, whatever the server's delimiter. \Flagged is missing on
// purpose: it is a virtual search folder wherever it exists, and appending
// to it fails or hides the mail in a view.
var wellKnownFolders = []struct {
	use   string
	names []string
}{
	{`\Sent`, []string{"Sent", "Sent Items", "Sent Messages", "Sent Mail", "Gesendet", "Gesendete Objekte",
		"Envoyés", "Elementos enviados", "[Gmail]/Sent Mail", "[Google Mail]/Sent Mail"}},
	{`\Drafts`, []string{"Drafts", "Entwürfe", "Brouillons", "[Gmail]/Drafts", "[Google Mail]/Drafts"}},
	{`\Trash`, []string{"Trash", "Deleted Items", "Deleted Messages", "Papierkorb", "Gelöschte Elemente",
		"Corbeille", "[Gmail]/Trash", "[Gmail]/Bin", "[Google Mail]/Trash", "[Google Mail]/Bin"}},
	{`\Junk`, []string{"Junk", "Junk E-mail", "Junk Email", "Spam", "[Gmail]/Spam", "[Google Mail]/Spam"}},
	{`\Archive`, []string{"Archive", "Archives", "Archiv"}},
	// Gmail's All Mail holds every message; the name is Gmail's own.
	{`\All`, []string{"[Gmail]/All Mail", "[Google Mail]/All Mail"}},
}

// wellKnownNames returns the names of a use, nil for a use that is not
// mapped.
func wellKnownNames(use string) []string {
	for _, w := range wellKnownFolders {
		if strings.EqualFold(w.use, use) {
			return w.names
		}
	}
	return nil
}

// sourceUse is the folder's special use: the snapshot's word when it has
// special-use data, else what its name says.
func (m *folderMapper) sourceUse(f format.Folder, sn sourceName) (use string, guessed bool) {
	if sn.inbox && len(sn.levels) == 0 {
		return "", false // INBOX is never special
	}
	if !m.guessUses {
		for _, w := range wellKnownFolders {
			if strings.EqualFold(w.use, f.SpecialUse) {
				return w.use, false
			}
		}
		return f.SpecialUse, false
	}
	if sn.inbox {
		return "", false // a Dovecot child of INBOX is not a top-level name
	}
	name := sn.slashName()
	for _, w := range wellKnownFolders {
		for _, n := range w.names {
			if strings.EqualFold(n, name) {
				return w.use, true
			}
		}
	}
	return "", false
}

// mapSpecialUse sends a special folder to the destination's folder of the
// same use. It leaves alone folders a rule renamed (the user said where
// they go) and everything under --into (whose point is to keep an account
// apart).
func (m *folderMapper) mapSpecialUse(pf *plannedFolder) {
	if pf.use == "" || pf.ruled || pf.noselect || m.opts.NoSpecialUse || m.into != nil || wellKnownNames(pf.use) == nil {
		return
	}
	use := pf.use
	if pf.useGuessed {
		use += " (recognised by name)"
	}
	own := m.fullName(pf.path)
	if target, ok := m.destFolderForUse(pf.use, own); ok {
		pf.fixed = target
		if target != own {
			pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("special-use %s -> %s", use, target))
		}
		return
	}
	if p, ok := m.createdForUse[pf.use]; ok {
		// An earlier folder of this use makes the destination's; a second
		// folder of that use would leave clients to pick one at random.
		pf.path = p
		pf.out.SpecialUse = pf.use
		if target := m.fullName(p); target != own {
			pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("special-use %s -> %s", use, target))
		}
		return
	}
	m.createdForUse[pf.use] = pf.path
	if !m.exists(own) {
		pf.out.SpecialUse = pf.use
		pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("special-use %s: the destination has none, created with it", use))
	}
}

// destFolderForUse finds the destination's folder for a use: the one
// marked with it, else one with a well-known name and no use of its own,
// the folder's own name first (a destination with both "Sent" and
// "Sent Items" keeps the source's choice), then in the table's order.
func (m *folderMapper) destFolderForUse(use, own string) (string, bool) {
	selectable := func(f format.Folder) bool {
		return !f.HasAttribute(`\Noselect`) && !f.HasAttribute(`\NonExistent`)
	}
	if m.dst.SpecialUse {
		for _, f := range m.dst.Folders {
			if strings.EqualFold(f.SpecialUse, use) && selectable(f) {
				return f.Name, true
			}
		}
	}
	names := wellKnownNames(use)
	best, bestRank := "", len(names)
	for _, f := range m.dst.Folders {
		if (m.dst.SpecialUse && f.SpecialUse != "") || !selectable(f) {
			continue
		}
		rank := -1
		for i, n := range names {
			if strings.EqualFold(n, m.destSlashName(f.Name)) {
				rank = i
				break
			}
		}
		if rank < 0 {
			continue
		}
		if m.fold(f.Name) == m.fold(own) {
			return f.Name, true
		}
		if rank < bestRank {
			best, bestRank = f.Name, rank
		}
	}
	return best, best != ""
}

// destSlashName is a destination folder's name as the well-known table
// writes it: no prefix, levels joined by "/".
func (m *folderMapper) destSlashName(name string) string {
	if m.prefix != "" && hasFoldedPrefix(name, m.prefix) {
		name = name[len(m.prefix):]
	}
	if m.delim != "" && m.delim != "/" {
		name = strings.ReplaceAll(name, m.delim, "/")
	}
	return name
}
