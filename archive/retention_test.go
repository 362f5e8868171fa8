package archive

import (
	"slices"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// TestRetentionRules applies policies to a synthetic history: one complete
// snapshot a day at 02:00 UTC (two on some days) from 2026-01-01 to
// 2026-03-15, plus checkpoints, and checks exactly which are kept.
func TestRetentionRules(t *testing.T) {
	day := func(s string, hour int) time.Time {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(time.Duration(hour) * time.Hour)
	}
	var snaps []SnapshotInfo
	add := func(acct string, at time.Time, complete bool) {
		var id format.ID
		id[0], id[1], id[2] = byte(len(snaps)>>8), byte(len(snaps)), acct[0]
		snaps = append(snaps, SnapshotInfo{ID: id, Snapshot: format.Snapshot{Account: acct, Started: at, Complete: complete, Run: at.String()}})
	}
	for d := day("2026-01-01", 2); d.Before(day("2026-03-16", 0)); d = d.AddDate(0, 0, 1) {
		add("a@h", d, true)
		if d.Day() == 10 {
			add("a@h", d.Add(12*time.Hour), true) // a second run that day
		}
	}
	add("a@h", day("2026-03-10", 5), false)  // checkpoint of a run that finished since
	add("a@h", day("2026-03-15", 20), false) // checkpoint after the newest complete one
	add("b@h", day("2026-02-01", 2), true)
	add("b@h", day("2026-03-01", 2), true)

	kept := func(p RetentionPolicy, acct string) []string {
		p.Location = time.UTC
		var out []string
		for _, d := range p.Apply(snaps) {
			if d.Keep && d.Snapshot.Account == acct {
				out = append(out, d.Snapshot.Started.Format("01-02T15"))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		policy RetentionPolicy
		acct   string
		want   []string // newest first
	}{
		{"last 3", RetentionPolicy{Last: 3}, "a@h",
			[]string{"03-15T20", "03-15T02", "03-14T02", "03-13T02"}},
		{"daily 3 takes the day's newest", RetentionPolicy{Daily: 3}, "a@h",
			[]string{"03-15T20", "03-15T02", "03-14T02", "03-13T02"}},
		{"daily over a day with two runs", RetentionPolicy{Daily: 7}, "a@h",
			[]string{"03-15T20", "03-15T02", "03-14T02", "03-13T02", "03-12T02", "03-11T02", "03-10T14", "03-09T02"}},
		{"weekly 3 (ISO weeks end on Sunday)", RetentionPolicy{Weekly: 3}, "a@h",
			[]string{"03-15T20", "03-15T02", "03-08T02", "03-01T02"}},
		{"monthly 2", RetentionPolicy{Monthly: 2}, "a@h",
			[]string{"03-15T20", "03-15T02", "02-28T02"}},
		{"monthly 12 stops at the first month", RetentionPolicy{Monthly: 12}, "a@h",
			[]string{"03-15T20", "03-15T02", "02-28T02", "01-31T02"}},
		{"rules combine", RetentionPolicy{Last: 1, Weekly: 2, Monthly: 3}, "a@h",
			[]string{"03-15T20", "03-15T02", "03-08T02", "02-28T02", "01-31T02"}},
		{"yearly 1", RetentionPolicy{Yearly: 1}, "a@h",
			[]string{"03-15T20", "03-15T02"}},
		{"accounts apart", RetentionPolicy{Last: 1}, "b@h",
			[]string{"03-01T02"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kept(tc.policy, tc.acct); !slices.Equal(got, tc.want) {
				t.Errorf("kept %q\nwant %q", got, tc.want)
			}
		})
	}
	// Account limits a policy to one account: the others get no decision.
	for _, d := range (RetentionPolicy{Last: 1, Account: "b@h"}).Apply(snaps) {
		if d.Snapshot.Account != "b@h" {
			t.Fatalf("a policy for b@h decided on %s", d.Snapshot.Account)
		}
	}

	// By id: exactly the named snapshots go, with the reason given.
	ds, err := DecideByID(snaps, []string{snaps[3].ID.String()[:8], snaps[7].ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	forget := ToForget(ds, "forgotten by id")
	if len(ds) != len(snaps) || len(forget) != 2 || forget[0].ID != snaps[3].ID || forget[1].ID != snaps[7].ID || forget[1].Reason != "forgotten by id" {
		t.Errorf("by id: %d decisions, forget %+v", len(ds), forget)
	}
	if _, err := DecideByID(snaps, []string{"ffffffff"}); err == nil {
		t.Error("an id no snapshot has was taken")
	}

	if !(RetentionPolicy{}).Empty() || (RetentionPolicy{Monthly: 1}).Empty() {
		t.Error("Empty is wrong")
	}
	if s := (RetentionPolicy{Last: 2, Monthly: 6}).String(); s != "last 2, monthly 6" {
		t.Errorf("String() = %q", s)
	}
}
