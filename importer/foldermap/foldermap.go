package foldermap

import (
	"regexp"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/maprule"
)

// Destination is what folder mapping needs to know about the
// destination account, read from its NAMESPACE and LIST (and CAPABILITY).
type Destination struct {
	// Namespace is the personal namespace: {"", "/"} on Dovecot and Gmail,
	// {"INBOX.", "."} on Cyrus and Courier. A Delimiter of "" is a flat
	// namespace: levels are then joined with "/" into one name.
	Namespace format.Namespace
	// Folders are the folders the destination already has, full names
	// with the prefix, with SpecialUse filled in when the server has it.
	Folders []format.Folder
	// CaseInsensitive is set for servers on which "Foo" and "foo" are one
	// folder (Exchange, Office 365, Gmail). INBOX is case-insensitive on
	// every server regardless (RFC 3501 5.1).
	CaseInsensitive bool
	// SpecialUse is set when the server announces SPECIAL-USE (RFC 6154):
	// only then are the Folders' SpecialUse values believed.
	SpecialUse bool
}

// Options are the user's choices about folder names.
type Options struct {
	// Rules rename folders (--map, imapsync's --regextrans2). They apply
	// in order, each to the result of the one before, to the destination
	// name without the destination prefix and with the destination
	// delimiter, --into included: "Work/2024" on Dovecot, "Work.2024" on
	// Courier (whose "INBOX." prefix is left out), "INBOX" for INBOX.
	// Folders a rule renames are merged on purpose when they meet, and are
	// left out of special-use mapping: the user said where they go. Rules
	// are the only way two source folders end in one destination folder.
	Rules []maprule.Rule
	// Include and Exclude filter folders (--include, --exclude). They match
	// the source name without the source prefix, levels joined by "/":
	// "Work/2024" whether the source was Courier ("INBOX.Work.2024") or
	// Dovecot ("Work/2024"); INBOX is "INBOX" and a Dovecot child of INBOX
	// is "INBOX/foo". imapsync matches the raw name instead, so its
	// patterns carry over except for "INBOX." prefixes and "." delimiters.
	// With Include set, a folder must match one of them; Exclude wins.
	Include []*regexp.Regexp
	Exclude []*regexp.Regexp
	// Into puts every folder under one destination folder (--into,
	// imapsync's --subfolder2): INBOX becomes Into itself, every other
	// folder Into/<name>. It is written like a rule's result: without the
	// destination prefix, levels joined by the destination delimiter.
	// Special folders then keep their names under Into, so that several
	// accounts (POP3 mailboxes, say) can share one IMAP account.
	Into string
	// NoSpecialUse turns off mapping special-use folders onto the
	// destination's own (--no-special-use): they keep their translated
	// names and are created without a special use.
	NoSpecialUse bool
	// Reserved are top-level names the destination keeps for its own
	// (Office 365's "Files", Gmail's "[Gmail]"): a source folder of such a
	// name gets "_" added and a note, never the server's folder.
	Reserved []string
	// CollapseSpaces turns a run of blanks inside a name into one blank
	// (Gmail refuses doubled blanks).
	CollapseSpaces bool
}

// Mapping is the decision for one source folder, with the reasons.
type Mapping struct {
	Source format.Folder
	// Dest is the full destination name, prefix included; "" when Excluded.
	Dest string
	// SpecialUse is the use to ask for in CREATE (RFC 6154 CREATE-SPECIAL-
	// USE) when Create is set and the destination had no folder for it.
	// The caller sends it only if the server announces CREATE-SPECIAL-USE.
	SpecialUse string
	// Exists is set when the destination already has Dest.
	Exists bool
	// Excluded is set for folders that --include/--exclude left out.
	Excluded bool
	// Create is set when Dest must be created: it does not exist, the
	// folder is not excluded and not a \Noselect one (those are created
	// only as someone's parent, through Parents).
	Create bool
	// Parents are the ancestors of Dest that do not exist yet, outermost
	// first: some servers (Exchange, Courier) want them created one by one
	// before the child. Only set when Create is.
	Parents []string
	// Reason says why the folder kept its own name where special use
	// could have moved it: two source folders claim the use, a folder
	// marked with the use beats one that only looks like it by name, or the
	// destination's folder for the use is where another source folder goes.
	// "" otherwise. It is one of the Changes too, for the plan.
	Reason string
	// Changes say, in words for the --dry-run plan, what became of the
	// source name and why: prefix and delimiter, illegal names made legal,
	// clashes, rules, special use, kept names, merges a rule made, exclusion.
	Changes []string
}

// Map decides the destination name of every source folder. srcNS is
// the snapshot's namespace (nil when the source had none or did not say:
// a prefix "INBOX"+delimiter is then assumed when every folder but INBOX
// starts with it, as on Courier and Cyrus). It does no I/O, and returns
// the mappings in the order of src, INBOX first.
func Map(src []format.Folder, srcNS *format.Namespace, dst Destination, opts Options) ([]Mapping, error) {
	m, err := newFolderMapper(src, srcNS, dst, opts)
	if err != nil {
		return nil, err
	}
	planned, err := m.plan(inboxFirst(src))
	if err != nil {
		return nil, err
	}
	out := make([]Mapping, len(planned))
	for i, pf := range planned {
		out[i] = pf.out
	}
	return out, nil
}

// inboxFirst orders the folders as given except that INBOX comes first,
// so that it is planned (and imported) before anything else.
func inboxFirst(src []format.Folder) []format.Folder {
	out := make([]format.Folder, 0, len(src))
	for _, f := range src {
		if isInboxFolderName(f.Name) {
			out = append(out, f)
		}
	}
	for _, f := range src {
		if !isInboxFolderName(f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// plan runs the steps in their order: filter, translate, settle accidental
// clashes, rules, special use, then what exists and what must be created.
// Special use comes after every rule so that it knows every name the
// folders keep, and never sends a folder where another one goes.
func (m *folderMapper) plan(src []format.Folder) ([]*plannedFolder, error) {
	planned := make([]*plannedFolder, 0, len(src))
	for _, f := range src {
		pf, err := m.translate(f)
		if err != nil {
			return nil, err
		}
		planned = append(planned, pf)
	}
	m.resolveClashes(planned)
	for _, pf := range planned {
		if pf.out.Excluded {
			continue
		}
		if err := m.applyRules(pf); err != nil {
			return nil, err
		}
	}
	m.mapSpecialUses(planned)
	m.settle(planned)
	return planned, nil
}
