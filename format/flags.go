package format

import (
	"slices"
	"strings"
)

// IMAP system flags (RFC 9051 section 2.3.2), spelled as mailferry stores them.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	// FlagRecent is session state on the server, never stored nor sent.
	FlagRecent = `\Recent`
	// FlagForwarded is the keyword most clients use for Maildir's "passed" (P).
	FlagForwarded = `$Forwarded`
)

var systemFlags = []string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft}

// Flags is a message's set of flags: system flags in their canonical spelling
// and keywords as the source gave them, sorted, without repeats.
type Flags []string

// NormalizeFlags returns the canonical set for in: system flags in canonical
// case (IMAP compares them case-insensitively), \Recent and empty strings
// dropped, keywords kept as given, sorted and without repeats.
func NormalizeFlags(in []string) Flags {
	out := make(Flags, 0, len(in))
	for _, f := range in {
		if f == "" {
			continue
		}
		if strings.HasPrefix(f, `\`) {
			if strings.EqualFold(f, FlagRecent) {
				continue
			}
			for _, s := range systemFlags {
				if strings.EqualFold(f, s) {
					f = s
					break
				}
			}
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Has reports whether f holds flag, comparing system flags case-insensitively.
func (f Flags) Has(flag string) bool {
	for _, x := range f {
		if x == flag || (strings.HasPrefix(x, `\`) && strings.EqualFold(x, flag)) {
			return true
		}
	}
	return false
}

// Keywords returns the flags that are not system flags.
func (f Flags) Keywords() []string {
	var out []string
	for _, x := range f {
		if !strings.HasPrefix(x, `\`) {
			out = append(out, x)
		}
	}
	return out
}
