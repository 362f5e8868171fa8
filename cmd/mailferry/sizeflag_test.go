package main

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"35651584", 35651584, true},
		{"10M", 10_000_000, true},
		{"10MB", 10_000_000, true},
		{"10mb", 10_000_000, true},
		{"10MiB", 10 << 20, true},
		{"1.5GiB", 3 << 29, true},
		{"1.5G", 1_500_000_000, true},
		{"512k", 512_000, true},
		{"100 B", 100, true},
		{"500_000_000", 500_000_000, true},
		{"-1M", 0, false},
		{"ten", 0, false},
		{"10X", 0, false},
		{"", 0, false},
		{"1e30", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestSizeFlags: import takes sizes as people write them, and a size it
// cannot read is a usage error naming the flag.
func TestSizeFlags(t *testing.T) {
	_, err := runCLIErr("import", "--archive", t.TempDir(), "--to", "imap://a@127.0.0.1:1", "--max-size", "ten")
	if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "max-size") || !strings.Contains(err.Error(), "not a size") {
		t.Errorf("--max-size ten: exit %d, %v", exitCodeOf(err), err)
	}
	// A readable size gets past the flags: the archive is what fails.
	_, err = runCLIErr("import", "--archive", t.TempDir(), "--to", "imap://a@127.0.0.1:1", "--max-size", "10M", "--max-bytes-per-day", "500MB")
	if err == nil || strings.Contains(err.Error(), "not a size") || exitCodeOf(err) == 2 {
		t.Errorf("--max-size 10M: %v (exit %d)", err, exitCodeOf(err))
	}
}

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{{"4", 4, true}, {"4/s", 4, true}, {"0.5/s", 0.5, true}, {"-1", 0, false}, {"fast", 0, false}} {
		var r messageRate
		if err := r.Set(tc.in); (err == nil) != tc.ok || float64(r) != tc.want {
			t.Errorf("messages %q: %v %v", tc.in, float64(r), err)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"1M", 1_000_000, true}, {"1M/s", 1_000_000, true}, {"500KiB/s", 512_000, true}, {"1/m", 0, false}} {
		var r byteRate
		if err := r.Set(tc.in); (err == nil) != tc.ok || int64(r.byteSize) != tc.want {
			t.Errorf("bytes %q: %d %v", tc.in, int64(r.byteSize), err)
		}
	}
}
