package foldermap

import (
	"fmt"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// wellKnownFolders are the names servers and clients give special folders,
// per use (RFC 6154), in order of preference. They find the destination's
// folder for a use when the destination has no SPECIAL-USE data, and the
// source's special folders the snapshot marks with no use. Names with a "/"
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
// one, else what its name says (guessed).
func (m *folderMapper) sourceUse(f format.Folder, sn sourceName) (use string, guessed bool) {
	if sn.inbox && len(sn.levels) == 0 {
		return "", false // INBOX is never special
	}
	if f.SpecialUse != "" {
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

// mapSpecialUses sends special folders to the destination's folders of the
// same use, one source folder per use: a second would merge two folders
// the user kept apart (a German client's "Entwürfe" beside an English
// one's "Drafts"). A folder the snapshot marks with a use beats those that
// only look like it by name; two marked alike, or two alike by name with
// none marked, all keep their names. It leaves alone folders a rule
// renamed (the user said where they go), \Noselect ones, and everything
// under --into (whose point is to keep an account apart).
func (m *folderMapper) mapSpecialUses(planned []*plannedFolder) {
	if m.opts.NoSpecialUse || m.into != nil {
		return
	}
	// goesTo holds, by folded destination name, the folder that goes
	// there, so that no special folder is sent where another one goes.
	goesTo := map[string]*plannedFolder{}
	var uses []string
	byUse := map[string][]*plannedFolder{}
	for _, pf := range planned {
		if pf.out.Excluded || pf.noselect {
			continue
		}
		goesTo[m.fold(m.fullName(pf.path))] = pf
		if pf.use == "" || pf.ruled || wellKnownNames(pf.use) == nil {
			continue
		}
		if byUse[pf.use] == nil {
			uses = append(uses, pf.use)
		}
		byUse[pf.use] = append(byUse[pf.use], pf)
	}
	for _, use := range uses {
		var marked, guessed []*plannedFolder
		for _, pf := range byUse[use] {
			if pf.useGuessed {
				guessed = append(guessed, pf)
			} else {
				marked = append(marked, pf)
			}
		}
		switch {
		case len(marked) > 0:
			verb := "is"
			if len(marked) > 1 {
				verb = "are"
			}
			for _, pf := range guessed {
				m.keepName(pf, fmt.Sprintf("%s %s marked %s", sourceNames(marked), verb, use))
			}
			if len(marked) == 1 {
				m.mapSpecialUse(marked[0], goesTo)
				continue
			}
			for _, pf := range marked {
				m.keepName(pf, fmt.Sprintf("%s are %s marked %s", sourceNames(marked), bothOrAll(marked), use))
			}
		case len(guessed) == 1:
			m.mapSpecialUse(guessed[0], goesTo)
		default:
			for _, pf := range guessed {
				m.keepName(pf, fmt.Sprintf("%s %s look like %s", sourceNames(guessed), bothOrAll(guessed), use))
			}
		}
	}
}

// mapSpecialUse sends the one source folder of its use to the destination's
// folder of that use, or has the destination's created with the use.
func (m *folderMapper) mapSpecialUse(pf *plannedFolder, goesTo map[string]*plannedFolder) {
	use := pf.use
	if pf.useGuessed {
		use += " (recognised by name)"
	}
	own := m.fullName(pf.path)
	target, ok := m.destFolderForUse(pf.use, own)
	if !ok {
		if !m.exists(own) {
			pf.out.SpecialUse = pf.use
			pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("special-use %s: the destination has none, created with it", use))
		}
		return
	}
	// A folder a rule sent there was sent to meet this one: the user asked
	// for the merge. One there by its own name was not.
	if other := goesTo[m.fold(target)]; other != nil && other != pf && !other.ruled {
		m.keepName(pf, fmt.Sprintf("the destination's %s folder %q is where %q goes", pf.use, target, other.out.Source.Name))
		return
	}
	goesTo[m.fold(target)] = pf
	pf.fixed = target
	if target != own {
		pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("special-use %s -> %s", use, target))
	}
}

// keepName leaves a special folder under its own name, saying why.
func (m *folderMapper) keepName(pf *plannedFolder, why string) {
	pf.out.Reason = "kept its name: " + why
	pf.out.Changes = append(pf.out.Changes, pf.out.Reason)
}

// sourceNames lists folders by their source names: `"a"`, `"a" and "b"`,
// `"a", "b" and "c"`.
func sourceNames(pfs []*plannedFolder) string {
	names := make([]string, len(pfs))
	for i, pf := range pfs {
		names[i] = fmt.Sprintf("%q", pf.out.Source.Name)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// bothOrAll is "both" for two folders, "all" for more.
func bothOrAll(pfs []*plannedFolder) string {
	if len(pfs) == 2 {
		return "both"
	}
	return "all"
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
