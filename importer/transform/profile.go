package transform

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownProfile is wrapped by ProfileByName's error.
var ErrUnknownProfile = errors.New("unknown --profile")

// Profile bundles what one kind of destination server needs
// (--profile exchange|office365|gmail|cyrus|dovecot). Explicit options
// override it; the zero Profile changes nothing.
type Profile struct {
	Name string
	// MaxLineLength is the longest line, in bytes without its line break,
	// the server accepts; 0 for no limit.
	MaxLineLength int
	// MaxSize is the largest message, in bytes, the server accepts; 0 for
	// no limit. Larger messages are skipped and listed.
	MaxSize int64
	// DropKeywords removes all keywords even when PERMANENTFLAGS is unknown.
	DropKeywords bool
	// DropFlags are flags the server turns into something users see.
	DropFlags []string
	// FlaggedAfterAppend sends \Flagged with a STORE after the APPEND.
	FlaggedAfterAppend bool
	// DisarmReadReceipts renames the fields that ask for read receipts.
	DisarmReadReceipts bool
	// MessagesPerSecond is the pace the importer should keep, 0 for none;
	// it is for the importer's throttle (mailconn.NewThrottle).
	MessagesPerSecond float64
	// MaxSizeCeiling is the most --max-size may raise MaxSize to (0: no
	// ceiling): what the service takes at all.
	MaxSizeCeiling int64
	// CaseInsensitive says the server folds folder-name case.
	CaseInsensitive bool
	// ReservedFolders are top-level names the server keeps for its own;
	// CollapseSpaces says it refuses doubled blanks in names (folder
	// mapping makes such names legal and says so).
	ReservedFolders []string
	CollapseSpaces  bool
	// Hosts are the server names that identify the service, so that the
	// plan can suggest the profile.
	Hosts []string
	// MaxBytesPerDay is what the service takes a day over IMAP, for the
	// importer's daily budget; 0 for no limit.
	MaxBytesPerDay int64
}

// profiles are the known destination kinds. Sources for the numbers:
// imapsync's FAQ.Exchange, FAQ.Office365 and FAQ.Gmail (the settings
// behind its --exchange2, --office2 and --gmail2), which many migrations
// have tested.
var profiles = []Profile{
	{
		// 10 MB is Exchange's default size limit; imapsync skips at
		// 10,000,000 bytes, which also clears the 10 MiB reading of it.
		// "Exchange supports 9900 characters line length". Exchange keeps
		// no keywords (no \* in its PERMANENTFLAGS) and answers read
		// receipts again for every imported message. 4 messages/s is
		// imapsync's --exchange2 pace.
		Name:               "exchange",
		MaxLineLength:      9900,
		MaxSize:            10_000_000,
		DropKeywords:       true,
		FlaggedAfterAppend: true,
		DisarmReadReceipts: true,
		MessagesPerSecond:  4,
		CaseInsensitive:    true,
	},
	{
		// Exchange Online takes messages of 35 MB by default; an
		// administrator can raise the limit to 150 MB, no further.
		// "Office365 supports 10500 characters line length", about 4
		// messages/s before it throttles. Keywords become Outlook
		// categories there, which is worth keeping, except $MDNSent that
		// then shows on every message. "Files" is a folder of its own
		// (attachments), which a source folder must not land in.
		Name:               "office365",
		MaxLineLength:      10500,
		MaxSize:            35_000_000,
		MaxSizeCeiling:     150_000_000,
		DropFlags:          []string{"$MDNSent"},
		FlaggedAfterAppend: true,
		DisarmReadReceipts: true,
		MessagesPerSecond:  4,
		CaseInsensitive:    true,
		ReservedFolders:    []string{"Files"},
		Hosts:              []string{"outlook.office365.com", "outlook.office.com", "imap-mail.outlook.com", "outlook.live.com"},
	},
	{
		// imapsync's --gmail2 skips messages over 35,651,584 bytes (34 MiB),
		// the APPENDLIMIT Gmail announces (RFC 7889); Gmail's often quoted
		// 25 MB is its limit for attachments a user sends. Gmail keeps
		// keywords, has no line limit worth stating, folds label case,
		// keeps "[Gmail]" for its system labels and refuses doubled
		// blanks in label names.
		Name:            "gmail",
		MaxSize:         35_651_584,
		CaseInsensitive: true,
		ReservedFolders: []string{"[Gmail]", "[Google Mail]"},
		CollapseSpaces:  true,
		Hosts:           []string{"imap.gmail.com", "imap.googlemail.com"},
		// Gmail's IMAP bandwidth limits: about 2,500 MB a day down,
		// 500 MB a day up.
		MaxBytesPerDay: 500_000_000,
	},
	// Cyrus and Dovecot take what RFC 5322 allows and more; their
	// PERMANENTFLAGS says what they keep.
	{Name: "cyrus"},
	{Name: "dovecot"},
}

// ProfileNames lists the known profiles, for help texts.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return names
}

// ProfileByName returns the profile called name (case-insensitively).
func ProfileByName(name string) (Profile, error) {
	for _, p := range profiles {
		if strings.EqualFold(p.Name, strings.TrimSpace(name)) {
			p.DropFlags = append([]string(nil), p.DropFlags...)
			p.ReservedFolders = append([]string(nil), p.ReservedFolders...)
			p.Hosts = append([]string(nil), p.Hosts...)
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w %q: valid names are %s", ErrUnknownProfile, name, strings.Join(ProfileNames(), ", "))
}

// ProfileForHost returns the profile of the service a server name
// belongs to, if it is a known one: the plan suggests it.
func ProfileForHost(host string) (Profile, bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range profiles {
		for _, h := range p.Hosts {
			if host == h {
				return p, true
			}
		}
	}
	return Profile{}, false
}

// Transforms returns the transforms the profile asks for, for the caller to
// add the user's options to.
func (p Profile) Transforms() Set {
	return Set{
		Profile: p,
		Flags: FlagRules{
			Drop:         append([]string(nil), p.DropFlags...),
			DropKeywords: p.DropKeywords,
		},
		Headers:       HeaderEdits{DisarmReadReceipts: p.DisarmReadReceipts},
		MaxLineLength: p.MaxLineLength,
		MaxSize:       p.MaxSize,
	}
}
