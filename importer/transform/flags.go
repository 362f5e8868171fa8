package transform

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/maprule"
)

// ErrFlagMapRule is wrapped by every error about a --flag-map rule.
var ErrFlagMapRule = errors.New("invalid --flag-map rule")

// FlagMapRule is one --flag-map 'REGEX=REPLACEMENT' rule, imapsync's
// --regexflag 's/REGEX/REPLACEMENT/g' applied to each flag on its own. The
// syntax is --map's (see MapRule): split at the first "=" not written "\=",
// $1 and ${name} in REPLACEMENT. A flag replaced by "" is removed; one
// replaced by several words becomes several flags.
type FlagMapRule struct {
	Pattern     *regexp.Regexp
	Replacement string
	// Spec is the rule as the user wrote it, for reports.
	Spec string
}

// ParseFlagMapRules reads the rules of repeated --flag-map options, in
// their order.
func ParseFlagMapRules(specs []string) ([]FlagMapRule, error) {
	rules := make([]FlagMapRule, 0, len(specs))
	for i, spec := range specs {
		r, err := maprule.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("%w %d %q: %w", ErrFlagMapRule, i+1, spec, err)
		}
		rules = append(rules, FlagMapRule{Pattern: r.Pattern, Replacement: r.Replacement, Spec: spec})
	}
	return rules, nil
}

// FlagRules turns a message's stored flags into the flags its APPEND
// may carry into one destination folder.
type FlagRules struct {
	// Map are the --flag-map rules, applied in order to every flag.
	Map []FlagMapRule
	// Drop are the --drop-flags: flags removed by name, case-insensitively.
	Drop []string
	// DropKeywords removes every keyword, even where PERMANENTFLAGS is
	// unknown (a profile's choice for servers known to refuse them).
	DropKeywords bool
}

// Apply returns the flags to send for a message stored with flags into a
// folder whose PERMANENTFLAGS are permanent, normalized (format.NormalizeFlags),
// and one change per flag it changed or dropped. An empty permanent list (a
// read-only EXAMINE, or a server that sent none) means unknown: nothing is
// dropped for want of it. \Recent is never sent: it is the server's session
// state.
func (t *FlagRules) Apply(flags format.Flags, permanent []string) (format.Flags, []Change) {
	var changes []Change
	in := make([]string, 0, len(flags))
	for _, f := range flags {
		if strings.EqualFold(f, format.FlagRecent) {
			changes = append(changes, Change{KindFlagDropped, `flag \Recent dropped: it is the server's session state, never sent`})
			continue
		}
		in = append(in, f)
	}
	in = format.NormalizeFlags(in)

	mapped := make([]string, 0, len(in))
	for _, f := range in {
		mapped = append(mapped, t.mapFlag(f, &changes)...)
	}

	allowKeywords, listed := permanentFlagSet(permanent)
	out := make([]string, 0, len(mapped))
	for _, f := range format.NormalizeFlags(mapped) {
		if t.drops(f) {
			changes = append(changes, Change{KindFlagDropped, fmt.Sprintf("flag %s dropped (--drop-flags)", f)})
			continue
		}
		if why := flagProblem(f); why != "" {
			changes = append(changes, Change{KindFlagDropped, fmt.Sprintf("flag %q dropped: %s", f, why)})
			continue
		}
		system := strings.HasPrefix(f, `\`)
		switch {
		case !system && t.DropKeywords:
			changes = append(changes, Change{KindFlagDropped, fmt.Sprintf("keyword %s dropped: the destination profile drops keywords", f)})
			continue
		case len(permanent) == 0 || listed[strings.ToLower(f)]:
		case !system && !allowKeywords:
			changes = append(changes, Change{KindFlagDropped, fmt.Sprintf(`keyword %s dropped: the folder allows no custom keywords (no \* in PERMANENTFLAGS)`, f)})
			continue
		case system:
			changes = append(changes, Change{KindFlagDropped, fmt.Sprintf("flag %s dropped: not in the folder's PERMANENTFLAGS", f)})
			continue
		}
		out = append(out, f)
	}
	return format.NormalizeFlags(out), changes
}

// mapFlag runs the --flag-map rules over one flag.
func (t *FlagRules) mapFlag(flag string, changes *[]Change) []string {
	cur := []string{flag}
	for i, r := range t.Map {
		var next []string
		for _, f := range cur {
			m := r.Pattern.ReplaceAllString(f, r.Replacement)
			if m == f {
				next = append(next, f)
				continue
			}
			words := strings.Fields(m)
			if len(words) == 0 {
				*changes = append(*changes, Change{KindFlagMapped, fmt.Sprintf("flag %s removed by --flag-map rule %d %q", f, i+1, r.Spec)})
			} else {
				*changes = append(*changes, Change{KindFlagMapped, fmt.Sprintf("flag %s mapped to %s by --flag-map rule %d %q", f, strings.Join(words, " "), i+1, r.Spec)})
			}
			next = append(next, words...)
		}
		cur = next
	}
	return cur
}

func (t *FlagRules) drops(flag string) bool {
	for _, d := range t.Drop {
		if strings.EqualFold(d, flag) {
			return true
		}
	}
	return false
}

// permanentFlagSet reads PERMANENTFLAGS: whether \* allows new keywords, and
// the flags listed, lower-cased (IMAP compares flags case-insensitively).
func permanentFlagSet(permanent []string) (allowKeywords bool, listed map[string]bool) {
	listed = make(map[string]bool, len(permanent))
	for _, p := range permanent {
		if p == `\*` {
			allowKeywords = true
			continue
		}
		listed[strings.ToLower(p)] = true
	}
	return allowKeywords, listed
}

// flagProblem says why IMAP cannot carry flag, "" when it can. A keyword is
// an atom (RFC 9051 section 9): no space, parentheses, braces, quotes,
// backslash, "%", "*", "]" or control characters, ASCII only; "[" is legal
// but some servers choke on it, so it goes too. A backslash flag must be one
// of the system flags: servers answer BAD to any other, and go-imap closes
// the whole connection on some of these.
func flagProblem(flag string) string {
	if strings.HasPrefix(flag, `\`) {
		for _, s := range []string{format.FlagSeen, format.FlagAnswered, format.FlagFlagged, format.FlagDeleted, format.FlagDraft} {
			if flag == s {
				return ""
			}
		}
		return "not a system flag IMAP defines"
	}
	for i := 0; i < len(flag); i++ {
		c := flag[i]
		switch {
		case c >= 0x80:
			return "IMAP keywords are ASCII"
		case c <= ' ' || c == 0x7f:
			if c == ' ' {
				return "IMAP keywords cannot hold a space"
			}
			return "IMAP keywords cannot hold control characters"
		case strings.IndexByte(`()[]{}"\%*`, c) >= 0:
			return fmt.Sprintf("IMAP keywords cannot hold %q", c)
		}
	}
	return ""
}

// SplitForAppend splits the flags for an APPEND into those it sends and
// those the importer must STORE on the new message afterwards. Exchange and
// Office 365 accept \Flagged in APPEND but then forget it in every other
// protocol; set with STORE it sticks (imapsync's FAQ.Exchange and
// FAQ.Office365 describe the same two-step workaround).
func SplitForAppend(flags format.Flags, p Profile) (atAppend, afterAppend format.Flags) {
	if !p.FlaggedAfterAppend || !flags.Has(format.FlagFlagged) {
		return flags, nil
	}
	atAppend = make(format.Flags, 0, len(flags))
	for _, f := range flags {
		if !strings.EqualFold(f, format.FlagFlagged) {
			atAppend = append(atAppend, f)
		}
	}
	return atAppend, format.Flags{format.FlagFlagged}
}
