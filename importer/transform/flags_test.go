package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
)

func TestFlagTransform(t *testing.T) {
	mustFlagRules := func(specs ...string) []FlagMapRule {
		r, err := ParseFlagMapRules(specs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	all := []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\*`}
	tests := []struct {
		name      string
		tr        FlagRules
		in        []string
		permanent []string
		want      []string
		changes   []string // substrings, in order
	}{
		{
			name: "nothing to change", in: []string{`\Seen`, "$label1"}, permanent: all,
			want: []string{"$label1", `\Seen`},
		},
		{
			name: "unknown PERMANENTFLAGS keeps keywords", in: []string{`\Seen`, "Project-X"},
			want: []string{"Project-X", `\Seen`},
		},
		{
			name: `\Recent never sent, system flags canonical`, in: []string{`\RECENT`, `\seen`, `\Draft`}, permanent: all,
			want: []string{`\Draft`, `\Seen`}, changes: []string{`flag \Recent dropped`},
		},
		{
			name: `no \* drops keywords, listed ones stay`, in: []string{`\Seen`, "$label1", "$Forwarded", "junk"},
			permanent: []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `$forwarded`},
			want:      []string{"$Forwarded", `\Seen`},
			changes:   []string{`keyword $label1 dropped: the folder allows no custom keywords (no \* in PERMANENTFLAGS)`, "keyword junk dropped"},
		},
		{
			name: "system flag not permanent", in: []string{`\Deleted`, `\Seen`}, permanent: []string{`\Seen`, `\*`},
			want: []string{`\Seen`}, changes: []string{`flag \Deleted dropped: not in the folder's PERMANENTFLAGS`},
		},
		{
			name: "keywords IMAP cannot carry", permanent: all,
			in:   []string{"two words", "[Gmail]", "a(b", "q\"uote", "back\\slash", "per%cent", "st*r", "ctl\x01", "café", `\Custom`, "ok_$-.:+"},
			want: []string{"ok_$-.:+"},
			changes: []string{
				`flag "[Gmail]" dropped: IMAP keywords cannot hold '['`, `flag "\\Custom" dropped: not a system flag IMAP defines`,
				`flag "a(b" dropped`, `flag "back\\slash" dropped`, `flag "café" dropped: IMAP keywords are ASCII`,
				`flag "ctl\x01" dropped: IMAP keywords cannot hold control characters`, `flag "per%cent" dropped`,
				`flag "q\"uote" dropped`, `flag "st*r" dropped`, `flag "two words" dropped: IMAP keywords cannot hold a space`,
			},
		},
		{
			name: "map, remove by empty, split in two", permanent: all,
			tr:   FlagRules{Map: mustFlagRules(`^\$label1$=Work`, `^junk$=`, `^\$Important$=\Flagged Important`)},
			in:   []string{"$label1", "junk", "$Important", `\Seen`},
			want: []string{"Important", "Work", `\Flagged`, `\Seen`},
			changes: []string{
				`flag $Important mapped to \Flagged Important by --flag-map rule 3`,
				`flag $label1 mapped to Work by --flag-map rule 1`,
				`flag junk removed by --flag-map rule 2`,
			},
		},
		{
			name: "map with groups, then drop list", permanent: all,
			tr: FlagRules{Map: mustFlagRules(`^\$label(\d)$=Label-$1`), Drop: []string{"label-2", "$mdnsent"}},
			in: []string{"$label1", "$label2", "$MDNSent"}, want: []string{"Label-1"},
			changes: []string{"mapped to Label-1", "mapped to Label-2", "flag $MDNSent dropped (--drop-flags)", "flag Label-2 dropped (--drop-flags)"},
		},
		{
			name: "a profile drops keywords though the folder takes them", permanent: all,
			tr: FlagRules{DropKeywords: true}, in: []string{"$label1", `\Answered`},
			want: []string{`\Answered`}, changes: []string{"keyword $label1 dropped: the destination profile drops keywords"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes := tt.tr.Apply(format.Flags(tt.in), tt.permanent)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("flags %q, want %q", got, tt.want)
			}
			if len(changes) != len(tt.changes) {
				t.Fatalf("changes %q, want %q", changes, tt.changes)
			}
			for i, c := range tt.changes {
				if !strings.Contains(changes[i].Detail, c) {
					t.Errorf("change %d: %q, want %q", i, changes[i], c)
				}
				kind := KindFlagDropped
				if !strings.Contains(c, "dropped") {
					kind = KindFlagMapped
				}
				if changes[i].Kind != kind {
					t.Errorf("change %d: kind %s, want %s", i, changes[i].Kind, kind)
				}
			}
		})
	}
}

func TestParseFlagMapRules(t *testing.T) {
	if _, err := ParseFlagMapRules([]string{`^a$=b`, `(=x`}); !errors.Is(err, ErrFlagMapRule) || !strings.Contains(err.Error(), "rule 2") {
		t.Errorf("bad rule: %v", err)
	}
	if _, err := ParseFlagMapRules([]string{`a=$2`}); err == nil {
		t.Error("a reference to a missing group was accepted")
	}
	r, err := ParseFlagMapRules([]string{`^\\Flagged$=\Seen`})
	if err != nil {
		t.Fatal(err)
	}
	if got := r[0].Pattern.ReplaceAllString(`\Flagged`, r[0].Replacement); got != `\Seen` {
		t.Errorf(`\Flagged maps to %q`, got)
	}
}

func TestSplitForAppend(t *testing.T) {
	exchange, _ := ProfileByName("exchange")
	dovecot, _ := ProfileByName("dovecot")
	for _, tt := range []struct {
		p          Profile
		in         format.Flags
		now, later string
	}{
		{exchange, format.Flags{`\Flagged`, `\Seen`}, `\Seen`, `\Flagged`},
		{exchange, format.Flags{`\Seen`}, `\Seen`, ""},
		{exchange, format.Flags{`\Flagged`}, "", `\Flagged`},
		{dovecot, format.Flags{`\Flagged`, `\Seen`}, `\Flagged \Seen`, ""},
	} {
		now, after := SplitForAppend(tt.in, tt.p)
		if strings.Join(now, " ") != tt.now || strings.Join(after, " ") != tt.later {
			t.Errorf("%s %q: %q then %q", tt.p.Name, tt.in, now, after)
		}
	}
}
