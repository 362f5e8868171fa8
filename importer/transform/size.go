package transform

import (
	"fmt"
	"strconv"
	"strings"
)

// CheckMaxSize is --max-size (imapsync's --maxsize): it returns why a
// message of size bytes is skipped, "" when it is not (limit 0: none).
// Servers refuse an APPEND over their limit, and Exchange closes the session
// after ten refusals, so such messages are better listed than tried.
func CheckMaxSize(size, limit int64) string {
	if limit <= 0 || size <= limit {
		return ""
	}
	s, m := decimalBytes(size), decimalBytes(limit)
	if s == m {
		// Both round to the same figure: "10 MB over 10 MB" says nothing.
		s, m = groupedBytes(size), groupedBytes(limit)
	}
	return s + " over --max-size " + m
}

// decimalBytes prints n in decimal units (as mail servers state their
// limits: Exchange's "10 MB" is 10,000,000 in imapsync's advice), one
// decimal, without a trailing ".0".
func decimalBytes(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB"}
	v, u := float64(n), 0
	for v >= 1000 && u < len(units)-1 {
		v /= 1000
		u++
	}
	if u == 0 {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[u]
}

// groupedBytes prints n exactly, with thousands separators.
func groupedBytes(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%s bytes", b.String())
}
