package transform

// Kind is one kind of change the transforms make to a message. Reports
// count messages per kind, so the kinds are a small fixed set; what
// exactly changed in one message is its Change's Detail.
type Kind string

// The kinds of change, with their keys as reports show them.
const (
	KindCRLF                Kind = "crlf"
	KindFlagDropped         Kind = "flag_dropped"
	KindFlagMapped          Kind = "flag_mapped"
	KindFlagStoredAfter     Kind = "flag_stored_after"
	KindReadReceiptDisarmed Kind = "read_receipt_disarmed"
	KindHeaderAdded         Kind = "header_added"
	KindHeaderRemoved       Kind = "header_removed"
	KindHeaderRenamed       Kind = "header_renamed"
	KindHeaderNotEdited     Kind = "header_not_edited"
	KindHeaderFolded        Kind = "header_folded"
	KindLineReencoded       Kind = "line_reencoded"
	KindLineRewrapped       Kind = "line_rewrapped"
	KindLineLeftLong        Kind = "line_left_long"
)

// kindTexts say each kind in words.
var kindTexts = map[Kind]string{
	KindCRLF:                "line endings: bare LF sent as CRLF",
	KindFlagDropped:         "flags dropped that the destination cannot store",
	KindFlagMapped:          "flags renamed or removed by --flag-map",
	KindFlagStoredAfter:     `\Flagged set with STORE after the APPEND`,
	KindReadReceiptDisarmed: "read-receipt request disarmed",
	KindHeaderAdded:         "header field added",
	KindHeaderRemoved:       "header field removed",
	KindHeaderRenamed:       "header field renamed",
	KindHeaderNotEdited:     "header edits not applied: header section over 1 MiB",
	KindHeaderFolded:        "long header line folded",
	KindLineReencoded:       "part with long lines re-encoded as quoted-printable",
	KindLineRewrapped:       "encoded part re-wrapped at 76 characters",
	KindLineLeftLong:        "long line left as is: it cannot be fixed without changing the content",
}

// Text says the kind in words, for reports; an unknown kind is its key.
func (k Kind) Text() string {
	if t, ok := kindTexts[k]; ok {
		return t
	}
	return string(k)
}

// Change is one thing the transforms changed in one message.
type Change struct {
	Kind Kind
	// Detail says what changed in this message, in words: `flag "a b"
	// dropped: ...`, "part 1.2 text/html: 1 line of 20000 bytes re-encoded
	// as quoted-printable (was 7bit)".
	Detail string
}

func (c Change) String() string { return c.Detail }

// Kinds lists the kinds of changes, each once, in the order they first
// come: what a report adds one message to.
func Kinds(changes []Change) []Kind {
	var out []Kind
	seen := map[Kind]bool{}
	for _, c := range changes {
		if !seen[c.Kind] {
			seen[c.Kind] = true
			out = append(out, c.Kind)
		}
	}
	return out
}

// Details are the changes' Detail texts, in order.
func Details(changes []Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Detail
	}
	return out
}
