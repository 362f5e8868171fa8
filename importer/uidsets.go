package importer

import (
	"slices"

	"github.com/emersion/go-imap/v2"
)

// maxRanges bounds the ranges of one UID set sent in a command: servers
// cap the length of a command line (Dovecot's imap_max_line_length is
// 64 kB), and scattered UIDs would pass it.
const maxRanges = 1000

// uidSets turns UIDs into as few UID sets of at most maxRanges ranges as
// it can, in ascending order.
func uidSets(uids []uint32) []imap.UIDSet {
	uids = slices.Clone(uids)
	slices.Sort(uids)
	uids = slices.Compact(uids)
	var out []imap.UIDSet
	var cur imap.UIDSet
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		if len(cur) == maxRanges {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, imap.UIDRange{Start: imap.UID(uids[i]), Stop: imap.UID(uids[j])})
		i = j + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
