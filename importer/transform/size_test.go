package transform

import "testing"

func TestCheckMaxSize(t *testing.T) {
	for _, tt := range []struct {
		size, max int64
		want      string
	}{
		{12_345_678, 10_000_000, "12.3 MB over --max-size 10 MB"},
		{10_000_000, 10_000_000, ""},
		{5, 0, ""},
		{1_500, 1_000, "1.5 kB over --max-size 1 kB"},
		{999, 998, "999 bytes over --max-size 998 bytes"},
		{10_040_000, 10_000_000, "10,040,000 bytes over --max-size 10,000,000 bytes"},
		{46_000_000, 45_000_000, "46 MB over --max-size 45 MB"},
		{3_000_000_000, 35_651_584, "3 GB over --max-size 35.7 MB"},
	} {
		if got := CheckMaxSize(tt.size, tt.max); got != tt.want {
			t.Errorf("CheckMaxSize(%d, %d) = %q, want %q", tt.size, tt.max, got, tt.want)
		}
	}
}
