package export

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mailferry/mailferry/archive"
)

// TestDailyBudget: with MaxBytesPerDay an IMAP export stops, in order, once
// the day's downloads would pass the budget (ErrBudgetSpent, what was
// stored kept); a second run the same day stays within it; each next day
// carries on, and at last the snapshot is complete and equal to the server.
func TestDailyBudget(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 60, 0)
	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	dir := t.TempDir()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := func() Source { return NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}) }
	day := "2026-12-06"
	defer func(f func() string) { today = f }(today)
	today = func() string { return day }
	const budget = 96 << 10
	opts := Options{Account: "me", Connections: 2, MaxBytesPerDay: budget}

	rep, err := Run(context.Background(), a, src(), opts)
	if !errors.Is(err, ErrBudgetSpent) || rep.Deferred == 0 || rep.DownloadedBytes == 0 {
		t.Fatalf("first run: %v, downloaded %d bytes, deferred %d", err, rep.DownloadedBytes, rep.Deferred)
	}
	first := rep.DownloadedBytes
	rep, err = Run(context.Background(), a, src(), opts)
	if !errors.Is(err, ErrBudgetSpent) || first+rep.DownloadedBytes > budget {
		t.Fatalf("the same day: %v, downloaded %d more bytes after %d: past the budget", err, rep.DownloadedBytes, first)
	}
	for days := 7; ; days++ {
		day = fmt.Sprintf("2026-12-%02d", days)
		rep, err = Run(context.Background(), a, src(), opts)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrBudgetSpent) || days > 27 {
			t.Fatalf("day %s: %v", day, err)
		}
		if rep.DownloadedBytes == 0 {
			t.Fatalf("day %s: a new day downloaded nothing", day)
		}
	}
	if !rep.Complete() {
		t.Fatalf("last run: %+v", rep)
	}
	// The archive now holds the account as the server does.
	c := d.Login(t, testUser)
	_, want := readServer(t, c)
	_, _, got := readArchive(t, dir, "me")
	sameMessages(t, "after the budgeted days", want, got)
}
