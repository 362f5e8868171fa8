package accounts

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one worker's share of the accounts (--shard I/N): Index from 0
// to Count-1, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX counts.
type Shard struct{ Index, Count int }

// ParseShard reads "I/N".
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 0 || idx >= cnt {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4 (Kubernetes: $JOB_COMPLETION_INDEX/4)", s)
	}
	return Shard{idx, cnt}, nil
}

// Holds reports whether the account is this shard's: by a hash of its
// name, so that the same account lands in the same shard whatever the
// order of the file or the other rows.
func (s Shard) Holds(a Account) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(a.Name))
	return int(h.Sum64()%uint64(s.Count)) == s.Index
}

// Of keeps the accounts of this shard, in file order.
func (s Shard) Of(all []Account) []Account {
	var out []Account
	for _, a := range all {
		if s.Holds(a) {
			out = append(out, a)
		}
	}
	return out
}
