package archive

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// RetentionPolicy says which complete snapshots of each account to keep,
// as restic's forget does: the newest Last, and the newest of each of the
// last Daily days, Weekly ISO weeks, Monthly months and Yearly years that
// have a snapshot. A snapshot kept by any rule is kept. Days, weeks, months
// and years are those of the snapshot's start in Location.
type RetentionPolicy struct {
	Last, Daily, Weekly, Monthly, Yearly int
	// Location is the time zone calendar days are counted in (nil: local).
	Location *time.Location
	// Account, if set, limits the policy to that account's snapshots: the
	// others get no decision, and stay.
	Account string
}

// Empty reports whether the policy keeps nothing, which forget refuses: a
// policy must be given to forget by it.
func (p RetentionPolicy) Empty() bool {
	return p.Last <= 0 && p.Daily <= 0 && p.Weekly <= 0 && p.Monthly <= 0 && p.Yearly <= 0
}

// String describes the policy as its flags would.
func (p RetentionPolicy) String() string {
	var parts []string
	for _, r := range p.rules() {
		if r.count > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.name, r.count))
		}
	}
	return strings.Join(parts, ", ")
}

type retentionRule struct {
	name   string
	count  int
	bucket func(time.Time) string
}

func (p RetentionPolicy) rules() []retentionRule {
	return []retentionRule{
		{"last", p.Last, nil},
		{"daily", p.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", p.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", p.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
		{"yearly", p.Yearly, func(t time.Time) string { return t.Format("2006") }},
	}
}

// Decision is what a policy makes of one snapshot.
type Decision struct {
	Snapshot SnapshotInfo
	Keep     bool
	// Reasons name the rules that keep it ("daily 2026-12-01"), or why it
	// goes.
	Reasons []string
}

// Apply decides, account by account, which snapshots to keep, newest
// first within each account. Complete snapshots follow the rules.
// Checkpoints (incomplete snapshots) are kept while a resumed run may read
// them (started after the account's newest complete snapshot) and go with
// the rest. Repaired snapshots are kept: they may hold the only record of
// what a damaged file named; forget them by id.
func (p RetentionPolicy) Apply(snaps []SnapshotInfo) []Decision {
	loc := p.Location
	if loc == nil {
		loc = time.Local
	}
	byAccount := map[string][]SnapshotInfo{}
	var accounts []string
	for _, s := range snaps {
		if p.Account != "" && s.Account != p.Account {
			continue
		}
		if _, ok := byAccount[s.Account]; !ok {
			accounts = append(accounts, s.Account)
		}
		byAccount[s.Account] = append(byAccount[s.Account], s)
	}
	sort.Strings(accounts)
	var out []Decision
	for _, acct := range accounts {
		list := byAccount[acct]
		sort.SliceStable(list, func(i, j int) bool { return list[i].Started.After(list[j].Started) })
		var newestComplete time.Time
		for _, s := range list {
			if s.Complete {
				newestComplete = s.Started
				break
			}
		}
		rules := p.rules()
		last := make([]string, len(rules))
		for i, s := range list {
			d := Decision{Snapshot: s}
			switch {
			case s.Repaired != nil:
				d.Keep, d.Reasons = true, []string{"repaired (forget it by id)"}
			case !s.Complete && !s.Started.Before(newestComplete):
				d.Keep, d.Reasons = true, []string{"checkpoint of a run not finished since"}
			case !s.Complete:
				d.Reasons = []string{"checkpoint of a run that finished since"}
			default:
				t := s.Started.In(loc)
				for r, rule := range rules {
					if rule.count <= 0 {
						continue
					}
					key := fmt.Sprint(i)
					if rule.bucket != nil {
						key = rule.bucket(t)
					}
					if key == last[r] {
						continue
					}
					last[r] = key
					rules[r].count--
					d.Keep = true
					if rule.bucket == nil {
						d.Reasons = append(d.Reasons, rule.name)
					} else {
						d.Reasons = append(d.Reasons, rule.name+" "+key)
					}
				}
				if !d.Keep {
					d.Reasons = []string{"no rule keeps it"}
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// DecideByID decides to forget exactly the snapshots prefixes name (each a
// unique prefix of an id, as SelectSnapshot takes them) and to keep the rest.
func DecideByID(snaps []SnapshotInfo, prefixes []string) ([]Decision, error) {
	chosen := map[format.ID]bool{}
	for _, p := range prefixes {
		s, err := SelectSnapshot(snaps, "", p)
		if err != nil {
			return nil, err
		}
		chosen[s.ID] = true
	}
	out := make([]Decision, 0, len(snaps))
	for _, s := range snaps {
		d := Decision{Snapshot: s, Keep: !chosen[s.ID], Reasons: []string{"not named"}}
		if !d.Keep {
			d.Reasons = []string{"named"}
		}
		out = append(out, d)
	}
	return out, nil
}

// ToForget returns the snapshots ds let go, as a forget file records them,
// each with reason.
func ToForget(ds []Decision, reason string) []format.Forgotten {
	var out []format.Forgotten
	for _, d := range ds {
		if s := d.Snapshot; !d.Keep {
			out = append(out, format.Forgotten{ID: s.ID, Account: s.Account, Started: s.Started, Complete: s.Complete, Reason: reason})
		}
	}
	return out
}
