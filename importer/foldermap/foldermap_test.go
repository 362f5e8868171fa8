package foldermap

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/maprule"
)

// folders builds a LIST result: "name" or "name|\Attr|\Use" where an
// attribute that is a special use goes into SpecialUse.
func folders(delim string, specs ...string) []format.Folder {
	var out []format.Folder
	for _, spec := range specs {
		parts := strings.Split(spec, "|")
		f := format.Folder{Name: parts[0], Delimiter: delim}
		for _, p := range parts[1:] {
			if wellKnownNames(p) != nil || p == `\Flagged` {
				f.SpecialUse = p
			} else {
				f.Attributes = append(f.Attributes, p)
			}
		}
		out = append(out, f)
	}
	return out
}

var (
	courierNS = &format.Namespace{Prefix: "INBOX.", Delimiter: "."}
	dovecotNS = &format.Namespace{Prefix: "", Delimiter: "/"}
)

func dovecotDest(specs ...string) Destination {
	return Destination{Namespace: *dovecotNS, Folders: folders("/", specs...), SpecialUse: true}
}

func courierDest(specs ...string) Destination {
	return Destination{Namespace: *courierNS, Folders: folders(".", specs...)}
}

// exchangeDest is Exchange or Office 365: case-insensitive, English names,
// with or without SPECIAL-USE data.
func exchangeDest(specialUse bool) Destination {
	specs := []string{"INBOX", `Sent Items|\Sent`, `Deleted Items|\Trash`, `Drafts|\Drafts`, `Junk Email|\Junk`,
		`Archive|\Archive`, "Calendar", "Contacts"}
	d := Destination{Namespace: *dovecotNS, CaseInsensitive: true, SpecialUse: specialUse}
	d.Folders = folders("/", specs...)
	if !specialUse {
		for i := range d.Folders {
			d.Folders[i].SpecialUse = ""
		}
	}
	return d
}

func gmailDest() Destination {
	return Destination{Namespace: *dovecotNS, CaseInsensitive: true, SpecialUse: true,
		Folders: folders("/", "INBOX", `[Gmail]|\Noselect`, `[Gmail]/All Mail|\All`, `[Gmail]/Drafts|\Drafts`,
			`[Gmail]/Sent Mail|\Sent`, `[Gmail]/Spam|\Junk`, `[Gmail]/Starred|\Flagged`, `[Gmail]/Trash|\Trash`,
			`[Gmail]/Important|\Important`)}
}

func mustRules(t *testing.T, specs ...string) []maprule.Rule {
	t.Helper()
	rules, err := ParseRules(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// want is one expected mapping. changes are substrings that must each be
// in some change; quiet means there must be no changes at all. reason is
// the Reason, exactly.
type want struct {
	src                      string
	dest                     string
	exists, create, excluded bool
	use                      string
	parents                  []string
	changes                  []string
	reason                   string
	quiet                    bool
}

func checkMappings(t *testing.T, got []Mapping, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, g := range got {
			t.Logf("got %q -> %q %q", g.Source.Name, g.Dest, g.Changes)
		}
		t.Fatalf("got %d mappings, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Source.Name != w.src {
			t.Errorf("mapping %d is %q, want %q", i, g.Source.Name, w.src)
			continue
		}
		if g.Dest != w.dest || g.Exists != w.exists || g.Create != w.create || g.Excluded != w.excluded || g.SpecialUse != w.use {
			t.Errorf("%q -> %q exists=%v create=%v excluded=%v use=%q; want %q exists=%v create=%v excluded=%v use=%q",
				w.src, g.Dest, g.Exists, g.Create, g.Excluded, g.SpecialUse, w.dest, w.exists, w.create, w.excluded, w.use)
		}
		if g.Reason != w.reason {
			t.Errorf("%q: reason %q, want %q", w.src, g.Reason, w.reason)
		}
		if w.reason != "" && !slices.Contains(g.Changes, w.reason) {
			t.Errorf("%q: changes %q lack the reason", w.src, g.Changes)
		}
		if !slices.Equal(g.Parents, w.parents) {
			t.Errorf("%q: parents %q, want %q", w.src, g.Parents, w.parents)
		}
		for _, c := range w.changes {
			if !slices.ContainsFunc(g.Changes, func(s string) bool { return strings.Contains(s, c) }) {
				t.Errorf("%q: changes %q lack %q", w.src, g.Changes, c)
			}
		}
		if w.quiet && len(g.Changes) > 0 {
			t.Errorf("%q: changes %q, want none", w.src, g.Changes)
		}
	}
}

func TestMapFolders(t *testing.T) {
	courierTree := folders(".", "INBOX.Sent|\\Sent", "INBOX.Drafts|\\Drafts", "INBOX.Work", "INBOX.Work.2024", "INBOX")
	courierToDovecot := []want{
		{src: "INBOX", dest: "INBOX", exists: true, quiet: true},
		{src: "INBOX.Sent", dest: "Sent", exists: true, changes: []string{`prefix "INBOX." -> ""`}},
		{src: "INBOX.Drafts", dest: "Drafts", exists: true},
		{src: "INBOX.Work", dest: "Work", create: true, changes: []string{`prefix "INBOX." -> ""`}},
		{src: "INBOX.Work.2024", dest: "Work/2024", create: true, parents: []string{"Work"},
			changes: []string{`prefix "INBOX." -> ""`, "delimiter . -> /"}},
	}
	tests := []struct {
		name string
		src  []format.Folder
		ns   *format.Namespace
		dst  Destination
		opts Options
		want []want
	}{
		{
			name: "Courier to Dovecot, INBOX first",
			src:  courierTree,
			ns:   courierNS,
			dst:  dovecotDest("INBOX", `Sent|\Sent`, `Drafts|\Drafts`, `Trash|\Trash`),
			want: courierToDovecot,
		},
		{
			name: "Courier prefix inferred when the snapshot has no namespace",
			src:  courierTree,
			ns:   nil,
			dst:  dovecotDest("INBOX", `Sent|\Sent`, `Drafts|\Drafts`, `Trash|\Trash`),
			want: courierToDovecot,
		},
		{
			name: "Dovecot to Courier, by well-known names",
			src:  folders("/", "INBOX", `Sent|\Sent`, "Work/2024", "INBOX/Lists"),
			ns:   dovecotNS,
			dst:  courierDest("INBOX", "INBOX.Sent", "INBOX.Trash"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true, quiet: true},
				{src: "Sent", dest: "INBOX.Sent", exists: true, changes: []string{`prefix "" -> "INBOX."`}},
				{src: "Work/2024", dest: "INBOX.Work.2024", create: true, parents: []string{"INBOX.Work"},
					changes: []string{`prefix "" -> "INBOX."`, "delimiter / -> ."}},
				{src: "INBOX/Lists", dest: "INBOX.Lists", create: true, changes: []string{"delimiter / -> ."}},
			},
		},
		{
			name: "Dovecot child of INBOX stays below INBOX on Dovecot",
			src:  folders("/", "INBOX", "INBOX/foo", "inbox/bar"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true, quiet: true},
				{src: "INBOX/foo", dest: "INBOX/foo", create: true, quiet: true},
				{src: "inbox/bar", dest: "INBOX/bar", create: true, changes: []string{`"inbox" is INBOX`}},
			},
		},
		{
			name: "Dovecot to Exchange with SPECIAL-USE",
			src: folders("/", "INBOX", `Sent|\Sent`, `Trash|\Trash`, `Junk|\Junk`, `Drafts|\Drafts`,
				`Archive|\Archive`, "Projects"),
			ns:  dovecotNS,
			dst: exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent Items", exists: true, changes: []string{`special-use \Sent -> Sent Items`}},
				{src: "Trash", dest: "Deleted Items", exists: true, changes: []string{`special-use \Trash -> Deleted Items`}},
				{src: "Junk", dest: "Junk Email", exists: true, changes: []string{`special-use \Junk -> Junk Email`}},
				{src: "Drafts", dest: "Drafts", exists: true, quiet: true},
				{src: "Archive", dest: "Archive", exists: true, quiet: true},
				{src: "Projects", dest: "Projects", create: true, quiet: true},
			},
		},
		{
			name: "Dovecot to Exchange without SPECIAL-USE, by well-known names",
			src: folders("/", "INBOX", `Sent|\Sent`, `Trash|\Trash`, `Junk|\Junk`, `Drafts|\Drafts`,
				`Archive|\Archive`, "Projects"),
			ns:  dovecotNS,
			dst: exchangeDest(false),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent Items", exists: true, changes: []string{`special-use \Sent -> Sent Items`}},
				{src: "Trash", dest: "Deleted Items", exists: true, changes: []string{`special-use \Trash -> Deleted Items`}},
				{src: "Junk", dest: "Junk Email", exists: true, changes: []string{`special-use \Junk -> Junk Email`}},
				{src: "Drafts", dest: "Drafts", exists: true, quiet: true},
				{src: "Archive", dest: "Archive", exists: true, quiet: true},
				{src: "Projects", dest: "Projects", create: true, quiet: true},
			},
		},
		{
			name: "Exchange snapshot without special-use data, recognised by name",
			src:  folders("/", "INBOX", "Sent Items", "Deleted Items", "Junk E-mail", "Notes", "Work/Sent"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Sent|\Sent`, `Trash|\Trash`, `Junk|\Junk`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent Items", dest: "Sent", exists: true, changes: []string{`special-use \Sent (recognised by name) -> Sent`}},
				{src: "Deleted Items", dest: "Trash", exists: true, changes: []string{`special-use \Trash (recognised by name) -> Trash`}},
				{src: "Junk E-mail", dest: "Junk", exists: true, changes: []string{`special-use \Junk (recognised by name) -> Junk`}},
				{src: "Notes", dest: "Notes", create: true, quiet: true},
				{src: "Work/Sent", dest: "Work/Sent", create: true, parents: []string{"Work"}, quiet: true},
			},
		},
		{
			name: "Dovecot to Gmail",
			src: folders("/", "INBOX", `Sent|\Sent`, `Drafts|\Drafts`, `Trash|\Trash`, `Junk|\Junk`,
				`Archive|\Archive`, "Work"),
			ns:  dovecotNS,
			dst: gmailDest(),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "[Gmail]/Sent Mail", exists: true, changes: []string{`special-use \Sent -> [Gmail]/Sent Mail`}},
				{src: "Drafts", dest: "[Gmail]/Drafts", exists: true},
				{src: "Trash", dest: "[Gmail]/Trash", exists: true},
				{src: "Junk", dest: "[Gmail]/Spam", exists: true},
				{src: "Archive", dest: "Archive", create: true, use: `\Archive`,
					changes: []string{`special-use \Archive: the destination has none, created with it`}},
				{src: "Work", dest: "Work", create: true, quiet: true},
			},
		},
		{
			name: "Gmail to Dovecot",
			src: folders("/", "INBOX", `[Gmail]|\Noselect`, `[Gmail]/All Mail|\All`, `[Gmail]/Sent Mail|\Sent`,
				`[Gmail]/Starred|\Flagged`, "Label"),
			ns:  dovecotNS,
			dst: dovecotDest("INBOX", `Sent|\Sent`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "[Gmail]", dest: "[Gmail]", changes: []string{"parent only"}},
				{src: "[Gmail]/All Mail", dest: "[Gmail]/All Mail", create: true, use: `\All`, parents: []string{"[Gmail]"}},
				{src: "[Gmail]/Sent Mail", dest: "Sent", exists: true, changes: []string{`special-use \Sent -> Sent`}},
				{src: "[Gmail]/Starred", dest: "[Gmail]/Starred", create: true, parents: []string{"[Gmail]"}, quiet: true},
				{src: "Label", dest: "Label", create: true, quiet: true},
			},
		},
		{
			name: "two folders marked \\Sent keep their names beside the destination's",
			src:  folders("/", "INBOX", `Sent|\Sent`, `Sent Items|\Sent`),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent", create: true, reason: `kept its name: "Sent" and "Sent Items" are both marked \Sent`},
				{src: "Sent Items", dest: "Sent Items", exists: true, reason: `kept its name: "Sent" and "Sent Items" are both marked \Sent`},
			},
		},
		{
			name: "two folders marked \\Sent are created apart, neither with the use",
			src:  folders("/", "INBOX", `Sent Items|\Sent`, `Sent|\Sent`, `Gesendet|\Sent`),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent Items", dest: "Sent Items", create: true,
					reason: `kept its name: "Sent Items", "Sent" and "Gesendet" are all marked \Sent`},
				{src: "Sent", dest: "Sent", create: true,
					reason: `kept its name: "Sent Items", "Sent" and "Gesendet" are all marked \Sent`},
				{src: "Gesendet", dest: "Gesendet", create: true,
					reason: `kept its name: "Sent Items", "Sent" and "Gesendet" are all marked \Sent`},
			},
		},
		{
			name: "Drafts and Entwürfe, neither marked, both keep their names",
			src:  folders("/", "INBOX", "Drafts", "Entwürfe", "Sent"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Drafts|\Drafts`, `Sent|\Sent`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Drafts", dest: "Drafts", exists: true, reason: `kept its name: "Drafts" and "Entwürfe" both look like \Drafts`},
				{src: "Entwürfe", dest: "Entwürfe", create: true, reason: `kept its name: "Drafts" and "Entwürfe" both look like \Drafts`},
				{src: "Sent", dest: "Sent", exists: true, quiet: true},
			},
		},
		{
			name: "Drafts and Entwürfe to Exchange, neither marked",
			src:  folders("/", "INBOX", "Entwürfe", "Drafts", "Gesendete Objekte"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Entwürfe", dest: "Entwürfe", create: true, reason: `kept its name: "Entwürfe" and "Drafts" both look like \Drafts`},
				{src: "Drafts", dest: "Drafts", exists: true, reason: `kept its name: "Entwürfe" and "Drafts" both look like \Drafts`},
				{src: "Gesendete Objekte", dest: "Sent Items", exists: true,
					changes: []string{`special-use \Sent (recognised by name) -> Sent Items`}},
			},
		},
		{
			name: "a folder marked \\Drafts beats one named like it",
			src:  folders("/", "INBOX", "Entwürfe", `Drafts|\Drafts`),
			ns:   dovecotNS,
			dst:  gmailDest(),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Entwürfe", dest: "Entwürfe", create: true, reason: `kept its name: "Drafts" is marked \Drafts`},
				{src: "Drafts", dest: "[Gmail]/Drafts", exists: true, changes: []string{`special-use \Drafts -> [Gmail]/Drafts`}},
			},
		},
		{
			name: "a name guess for a use with two folders marked",
			src:  folders("/", "INBOX", `Trash|\Trash`, `Bin|\Trash`, "Deleted Items"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Trash|\Trash`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Trash", dest: "Trash", exists: true, reason: `kept its name: "Trash" and "Bin" are both marked \Trash`},
				{src: "Bin", dest: "Bin", create: true, reason: `kept its name: "Trash" and "Bin" are both marked \Trash`},
				{src: "Deleted Items", dest: "Deleted Items", create: true, reason: `kept its name: "Trash" and "Bin" are marked \Trash`},
			},
		},
		{
			name: "a special folder does not take the name another folder keeps",
			src:  folders("/", "INBOX", `Sent Items|\Sent`, "Sent"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Sent|\Sent`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent Items", dest: "Sent Items", create: true,
					reason: `kept its name: the destination's \Sent folder "Sent" is where "Sent" goes`},
				{src: "Sent", dest: "Sent", exists: true, reason: `kept its name: "Sent Items" is marked \Sent`},
			},
		},
		{
			name: "a guess does not take the name a plain folder keeps",
			src:  folders("/", "INBOX", "Junk E-mail", "Spam/old", "Bulk"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Bulk|\Junk`),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Junk E-mail", dest: "Junk E-mail", create: true,
					reason: `kept its name: the destination's \Junk folder "Bulk" is where "Bulk" goes`},
				{src: "Spam/old", dest: "Spam/old", create: true, parents: []string{"Spam"}, quiet: true},
				{src: "Bulk", dest: "Bulk", exists: true, quiet: true},
			},
		},
		{
			name: "a folder marked with a use in a snapshot that marks others",
			src:  folders("/", "INBOX", `Sent|\Sent`, "Junk E-mail"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent Items", exists: true, changes: []string{`special-use \Sent -> Sent Items`}},
				{src: "Junk E-mail", dest: "Junk Email", exists: true,
					changes: []string{`special-use \Junk (recognised by name) -> Junk Email`}},
			},
		},
		{
			name: "Drafts and drafts on a case-insensitive server",
			src:  folders("/", "INBOX", "Drafts", "drafts"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Drafts", dest: "Drafts", exists: true, reason: `kept its name: "Drafts" and "drafts" both look like \Drafts`},
				{src: "drafts", dest: "drafts (2)", create: true, reason: `kept its name: "Drafts" and "drafts" both look like \Drafts`,
					changes: []string{`renamed to "drafts (2)": clashes with "Drafts" on a case-insensitive server`}},
			},
		},
		{
			name: "a rule merges on purpose, also into a special folder",
			src:  folders("/", "INBOX", `Sent|\Sent`, "Gesendet", "Old Sent"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			opts: Options{Rules: mustRules(t, `^Old Sent$=Sent Items`)},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent Items", exists: true, changes: []string{`special-use \Sent -> Sent Items`, `merged with "Old Sent"`}},
				{src: "Gesendet", dest: "Gesendet", create: true, reason: `kept its name: "Sent" is marked \Sent`},
				{src: "Old Sent", dest: "Sent Items", exists: true, changes: []string{"rule 1:", `merged with "Sent"`}},
			},
		},
		{
			name: "--into keeps a child of INBOX apart from a top folder of its name",
			src:  folders("/", "INBOX", "INBOX/foo", "foo"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			opts: Options{Into: "alice"},
			want: []want{
				{src: "INBOX", dest: "alice", create: true},
				{src: "INBOX/foo", dest: "alice/foo", create: true, parents: []string{"alice"}},
				{src: "foo", dest: "alice/foo (2)", create: true, parents: []string{"alice"}, changes: []string{"maps to the same name"}},
			},
		},
		{
			name: "a special-use child of INBOX",
			src:  folders("/", "INBOX", `INBOX/Sent|\Sent`),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "INBOX/Sent", dest: "Sent Items", exists: true, changes: []string{`special-use \Sent -> Sent Items`}},
			},
		},
		{
			name: "special-use mapping off",
			src:  folders("/", "INBOX", `Sent|\Sent`),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			opts: Options{NoSpecialUse: true},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Sent", dest: "Sent", create: true, quiet: true},
			},
		},
		{
			name: "rules with capture groups, in order",
			src:  folders("/", "INBOX", "Old/2020", "Old/misc", "Archive/2020", "Archive/2021", `Sent|\Sent`, "Posteingang"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			opts: Options{Rules: mustRules(t,
				`^Old/(.*)=Archive/$1`,
				`^Archive/(20[0-9]{2})$=Archive/Years/$1`,
				`^Sent$=Gesendet`,
				`^Posteingang$=INBOX`)},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true, changes: []string{`merged with "Posteingang"`}},
				{src: "Old/2020", dest: "Archive/Years/2020", create: true, parents: []string{"Archive/Years"},
					changes: []string{`rule 1: ^Old/(.*)=Archive/$1`, `rule 2: ^Archive/(20[0-9]{2})$=Archive/Years/$1`, `merged with "Archive/2020"`}},
				{src: "Old/misc", dest: "Archive/misc", create: true, changes: []string{"rule 1:"}},
				{src: "Archive/2020", dest: "Archive/Years/2020", create: true, parents: []string{"Archive/Years"},
					changes: []string{"rule 2:", `merged with "Old/2020"`}},
				{src: "Archive/2021", dest: "Archive/Years/2021", create: true, parents: []string{"Archive/Years"}},
				{src: "Sent", dest: "Gesendet", create: true, changes: []string{"rule 3: ^Sent$=Gesendet"}},
				{src: "Posteingang", dest: "INBOX", exists: true, changes: []string{"rule 4:", `merged with "INBOX"`}},
			},
		},
		{
			name: "rules see the destination delimiter without the prefix",
			src:  folders("/", "INBOX", "Work/2024"),
			ns:   dovecotNS,
			dst:  courierDest("INBOX"),
			opts: Options{Rules: mustRules(t, `^Work\.(.*)$=Projects.${1}-old`)},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Work/2024", dest: "INBOX.Projects.2024-old", create: true, parents: []string{"INBOX.Projects"},
					changes: []string{"rule 1:"}},
			},
		},
		{
			name: "--into a full tree",
			src:  folders("/", "INBOX", `Sent|\Sent`, "Work/2024", "INBOX/foo"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX", `Sent|\Sent`, "Old"),
			opts: Options{Into: "Old/alice"},
			want: []want{
				{src: "INBOX", dest: "Old/alice", create: true, changes: []string{"--into Old/alice"}},
				{src: "Sent", dest: "Old/alice/Sent", create: true, parents: []string{"Old/alice"}},
				{src: "Work/2024", dest: "Old/alice/Work/2024", create: true, parents: []string{"Old/alice", "Old/alice/Work"}},
				{src: "INBOX/foo", dest: "Old/alice/foo", create: true, parents: []string{"Old/alice"}},
			},
		},
		{
			name: "--into on Courier",
			src:  folders(".", "INBOX", "INBOX.Work"),
			ns:   courierNS,
			dst:  courierDest("INBOX"),
			opts: Options{Into: "Old"},
			want: []want{
				{src: "INBOX", dest: "INBOX.Old", create: true},
				{src: "INBOX.Work", dest: "INBOX.Old.Work", create: true, parents: []string{"INBOX.Old"}},
			},
		},
		{
			name: "--into for a POP3 snapshot",
			src:  []format.Folder{{Name: "INBOX"}},
			ns:   nil,
			dst:  dovecotDest("INBOX", "pop"),
			opts: Options{Into: "pop/alice"},
			want: []want{{src: "INBOX", dest: "pop/alice", create: true}},
		},
		{
			name: "--into INBOX",
			src:  []format.Folder{{Name: "INBOX"}, {Name: "Work", Delimiter: "/"}},
			ns:   nil,
			dst:  dovecotDest("INBOX"),
			opts: Options{Into: "INBOX"},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Work", dest: "INBOX/Work", create: true},
			},
		},
		{
			name: "include and exclude",
			src:  folders("/", "INBOX", "Trash", "Work", "Work/2024", "Work/2025"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			opts: Options{
				Include: []*regexp.Regexp{regexp.MustCompile(`^INBOX$`), regexp.MustCompile(`^Work`)},
				Exclude: []*regexp.Regexp{regexp.MustCompile(`^Work/2024$`)},
			},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Trash", excluded: true, changes: []string{`excluded: matches no --include "^INBOX$", "^Work"`}},
				{src: "Work", dest: "Work", create: true},
				{src: "Work/2024", excluded: true, changes: []string{`excluded by --exclude "^Work/2024$"`}},
				{src: "Work/2025", dest: "Work/2025", create: true, parents: []string{"Work"}},
			},
		},
		{
			name: "exclude matches Courier names without the prefix",
			src:  folders(".", "INBOX", "INBOX.Trash", "INBOX.Trash.old"),
			ns:   courierNS,
			dst:  dovecotDest("INBOX"),
			opts: Options{Exclude: []*regexp.Regexp{regexp.MustCompile(`^Trash(/|$)`)}},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "INBOX.Trash", excluded: true, changes: []string{"excluded by --exclude"}},
				{src: "INBOX.Trash.old", excluded: true},
			},
		},
		{
			name: "illegal names on Dovecot",
			src: folders(".", "INBOX", "INBOX.a/b", "INBOX.a_b", "INBOX. Foo ", "INBOX.Bar ", "INBOX. Baz",
				"INBOX.x..y", "INBOX.INBOX", "INBOX.INBOX.sub", "INBOX.inbox"),
			ns:  courierNS,
			dst: dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "INBOX.a/b", dest: "a_b", create: true, changes: []string{`/ inside "a/b" -> _`}},
				{src: "INBOX.a_b", dest: "a_b (2)", create: true, changes: []string{`renamed to "a_b (2)": "INBOX.a/b" maps to the same name`}},
				{src: "INBOX. Foo ", dest: "Foo", create: true, changes: []string{`leading and trailing space trimmed: " Foo "`}},
				{src: "INBOX.Bar ", dest: "Bar", create: true, changes: []string{`trailing space trimmed: "Bar "`}},
				{src: "INBOX. Baz", dest: "Baz", create: true, changes: []string{`leading space trimmed: " Baz"`}},
				{src: "INBOX.x..y", dest: "x/_/y", create: true, parents: []string{"x", "x/_"}, changes: []string{`empty level -> "_"`}},
				{src: "INBOX.INBOX", dest: "INBOX (2)", create: true, changes: []string{`renamed to "INBOX (2)": "INBOX" would be INBOX`}},
				{src: "INBOX.INBOX.sub", dest: "INBOX (2)/sub", create: true, parents: []string{"INBOX (2)"},
					changes: []string{`parent renamed to "INBOX (2)"`}},
				{src: "INBOX.inbox", dest: "inbox (2)", create: true, changes: []string{`"inbox" would be INBOX`}},
			},
		},
		{
			name: "dot levels",
			src:  folders("/", "INBOX", ".", "../up", "a/ /b"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: ".", dest: "_", create: true, changes: []string{`level "." -> "_"`}},
				{src: "../up", dest: "__/up", create: true, parents: []string{"__"}, changes: []string{`level ".." -> "__"`}},
				{src: "a/ /b", dest: "a/_/b", create: true, parents: []string{"a", "a/_"},
					changes: []string{`white space trimmed: " "`, `empty level -> "_"`}},
			},
		},
		{
			name: "illegal names on Courier",
			src:  folders("/", "INBOX", "x.y", "INBOX/foo", "foo", "INBOX/INBOX"),
			ns:   dovecotNS,
			dst:  courierDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "x.y", dest: "INBOX.x_y", create: true, changes: []string{`. inside "x.y" -> _`}},
				{src: "INBOX/foo", dest: "INBOX.foo", create: true},
				{src: "foo", dest: "INBOX.foo (2)", create: true, changes: []string{`renamed to "INBOX.foo (2)": "INBOX/foo" maps to the same name`}},
				{src: "INBOX/INBOX", dest: "INBOX.INBOX", create: true},
			},
		},
		{
			name: "Courier's INBOX.INBOX stays on Courier",
			src:  folders(".", "INBOX", "INBOX.INBOX"),
			ns:   courierNS,
			dst:  courierDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true, quiet: true},
				{src: "INBOX.INBOX", dest: "INBOX.INBOX", create: true, quiet: true},
			},
		},
		{
			name: "a destination delimiter _ is replaced by -",
			src:  folders("/", "INBOX", "a_b/c"),
			ns:   dovecotNS,
			dst:  Destination{Namespace: format.Namespace{Delimiter: "_"}},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "a_b/c", dest: "a-b_c", create: true, parents: []string{"a-b"}, changes: []string{`_ inside "a_b" -> -`}},
			},
		},
		{
			name: "flat destination",
			src:  folders("/", "INBOX", "a/b", "INBOX/c"),
			ns:   dovecotNS,
			dst:  Destination{Namespace: format.Namespace{}},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "a/b", dest: "a/b", create: true, quiet: true},
				{src: "INBOX/c", dest: "INBOX/c", create: true, quiet: true},
			},
		},
		{
			name: "case clash on a case-insensitive server",
			src:  folders("/", "INBOX", "Foo", "foo", "foo/bar", "foo (2)", "Bar"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Foo", dest: "Foo", create: true, quiet: true},
				{src: "foo", dest: "foo (3)", create: true,
					changes: []string{`renamed to "foo (3)": clashes with "Foo" on a case-insensitive server`}},
				{src: "foo/bar", dest: "foo (3)/bar", create: true, parents: []string{"foo (3)"},
					changes: []string{`parent renamed to "foo (3)"`}},
				{src: "foo (2)", dest: "foo (2)", create: true, quiet: true},
				{src: "Bar", dest: "Bar", create: true, quiet: true},
			},
		},
		{
			name: "no case clash on a case-sensitive server",
			src:  folders("/", "INBOX", "Foo", "foo"),
			ns:   dovecotNS,
			dst:  dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Foo", dest: "Foo", create: true, quiet: true},
				{src: "foo", dest: "foo", create: true, quiet: true},
			},
		},
		{
			name: "existing folder spelled differently on a case-insensitive server",
			src:  folders("/", "INBOX", "projects", "projects/x", "Calendar/y"),
			ns:   dovecotNS,
			dst: func() Destination {
				d := exchangeDest(true)
				d.Folders = append(d.Folders, format.Folder{Name: "Projects", Delimiter: "/"})
				return d
			}(),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "projects", dest: "Projects", exists: true,
					changes: []string{`"projects" -> "Projects": one folder on this case-insensitive server`}},
				{src: "projects/x", dest: "Projects/x", create: true},
				{src: "Calendar/y", dest: "Calendar/y", create: true, quiet: true},
			},
		},
		{
			name: "names an Office 365 or Gmail destination keeps for itself",
			src:  folders("/", "INBOX", "Files", "Files/2024", "[Gmail]", "[Gmail]/Old", "Two  blanks/and   three", "Filesystem"),
			ns:   dovecotNS,
			dst:  exchangeDest(true),
			opts: Options{Reserved: []string{"Files", "[Gmail]"}, CollapseSpaces: true},
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "Files", dest: "Files_", create: true,
					changes: []string{`"Files" -> "Files_": the destination keeps "Files" for its own folder`}},
				{src: "Files/2024", dest: "Files_/2024", create: true, parents: []string{"Files_"}},
				{src: "[Gmail]", dest: "[Gmail]_", create: true},
				{src: "[Gmail]/Old", dest: "[Gmail]_/Old", create: true, parents: []string{"[Gmail]_"}},
				{src: "Two  blanks/and   three", dest: "Two blanks/and three", create: true, parents: []string{"Two blanks"},
					changes: []string{`doubled blanks in "Two  blanks" made single: the destination refuses them`}},
				{src: "Filesystem", dest: "Filesystem", create: true, quiet: true},
			},
		},
		{
			name: `\Noselect folders are parents only`,
			src:  folders(".", "INBOX", `INBOX.Lists|\Noselect|\HasChildren`, "INBOX.Lists.go", `INBOX.Empty|\Noselect`),
			ns:   courierNS,
			dst:  dovecotDest("INBOX"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true},
				{src: "INBOX.Lists", dest: "Lists", changes: []string{"parent only"}},
				{src: "INBOX.Lists.go", dest: "Lists/go", create: true, parents: []string{"Lists"}},
				{src: "INBOX.Empty", dest: "Empty", changes: []string{"parent only"}},
			},
		},
		{
			name: "non-ASCII names and Q&A pass through",
			src: folders("/", "INBOX", `Entwürfe|\Drafts`, "Öffentliche Ordner/Q&A", `Gelöschte Elemente|\Trash`,
				"Ünïcödé/日本語"),
			ns:  dovecotNS,
			dst: dovecotDest("INBOX", `Entwürfe|\Drafts`, "Öffentliche Ordner"),
			want: []want{
				{src: "INBOX", dest: "INBOX", exists: true, quiet: true},
				{src: "Entwürfe", dest: "Entwürfe", exists: true, quiet: true},
				{src: "Öffentliche Ordner/Q&A", dest: "Öffentliche Ordner/Q&A", create: true, quiet: true},
				{src: "Gelöschte Elemente", dest: "Gelöschte Elemente", create: true, use: `\Trash`},
				{src: "Ünïcödé/日本語", dest: "Ünïcödé/日本語", create: true, parents: []string{"Ünïcödé"}, quiet: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Map(tt.src, tt.ns, tt.dst, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkMappings(t, got, tt.want)
			if len(tt.opts.Rules) == 0 {
				checkNoMerge(t, got, tt.dst.CaseInsensitive)
			}
			again, err := Map(tt.src, tt.ns, tt.dst, tt.opts)
			if err != nil || !slices.EqualFunc(got, again, equalFolderMapping) {
				t.Errorf("a second run differs: %v", err)
			}
		})
	}
}

// checkNoMerge fails when two source folders that hold mail go to one
// destination folder, which only a rule may ask for.
func checkNoMerge(t *testing.T, got []Mapping, caseInsensitive bool) {
	t.Helper()
	from := map[string]string{}
	for _, g := range got {
		if g.Excluded || g.Source.HasAttribute(`\Noselect`) {
			continue
		}
		key := g.Dest
		if caseInsensitive || strings.EqualFold(key, "INBOX") {
			key = strings.ToLower(key)
		}
		if other, ok := from[key]; ok {
			t.Errorf("%q and %q both go to %q", other, g.Source.Name, g.Dest)
		}
		from[key] = g.Source.Name
	}
}

func equalFolderMapping(a, b Mapping) bool {
	return a.Source.Name == b.Source.Name && a.Dest == b.Dest && a.SpecialUse == b.SpecialUse &&
		a.Exists == b.Exists && a.Excluded == b.Excluded && a.Create == b.Create &&
		a.Reason == b.Reason && slices.Equal(a.Parents, b.Parents) && slices.Equal(a.Changes, b.Changes)
}
