package mbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The From_ line is "From <sender> <date>", the date in asctime form,
// "Mon Jan  2 15:04:05 2006", in local time without a zone. Writers vary:
// some add a numeric zone or a zone name before or after the year, some drop
// the seconds, some write RFC 5322 dates, Thunderbird writes "-" as the
// sender, UUCP appended "remote from host". parseFromLine takes all of those.

var weekdays = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// zoneNames are the zone names RFC 5322 section 4.3 defines; others (MET,
// CEST, "MET DST") are ambiguous and read as UTC.
var zoneNames = map[string]int{
	"ut": 0, "utc": 0, "gmt": 0, "z": 0,
	"est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7, "mdt": -6, "pst": -8, "pdt": -7,
}

// parseFromLine returns the sender and date of From_ line line (without its
// line ending). The date is in UTC unless the line names a zone. A date that
// cannot be read is a zero time and an error; the sender is still returned.
func parseFromLine(line string) (sender string, date time.Time, err error) {
	f := strings.Fields(strings.TrimPrefix(line, "From "))
	if len(f) == 0 {
		return "", time.Time{}, errors.New("From_ line has neither sender nor date")
	}
	// The sender may hold spaces (a quoted local part); the date starts at
	// the first weekday after it.
	for i := 1; i < len(f); i++ {
		if weekdays[strings.ToLower(strings.TrimSuffix(f[i], ","))] {
			date, err = parseFromDate(f[i+1:])
			return strings.Join(f[:i], " "), date, err
		}
	}
	date, err = parseFromDate(f[1:])
	return f[0], date, err
}

func parseFromDate(tokens []string) (time.Time, error) {
	month, day, year := time.Month(0), -1, -1
	hour, minute, second := -1, 0, 0
	var zone *time.Location
	for _, t := range tokens {
		t = strings.TrimSuffix(t, ",")
		lower := strings.ToLower(t)
		switch {
		case month == 0 && months[lower] != 0:
			month = months[lower]
		case hour < 0 && strings.Contains(t, ":"):
			var err error
			if hour, minute, second, err = parseClock(t); err != nil {
				return time.Time{}, err
			}
		case day < 0 && isDigits(t) && len(t) <= 2:
			day, _ = strconv.Atoi(t)
		case year < 0 && isDigits(t) && len(t) == 4:
			year, _ = strconv.Atoi(t)
		case zone == nil && len(t) == 5 && (t[0] == '+' || t[0] == '-') && isDigits(t[1:]):
			h, _ := strconv.Atoi(t[1:3])
			m, _ := strconv.Atoi(t[3:])
			if h > 23 || m > 59 {
				return time.Time{}, fmt.Errorf("zone %q out of range", t)
			}
			off := (h*60 + m) * 60
			if t[0] == '-' {
				off = -off
			}
			zone = time.FixedZone("", off)
		case zone == nil && hasZoneName(lower):
			zone = time.FixedZone("", zoneNames[lower]*3600)
		}
	}
	switch {
	case month == 0:
		return time.Time{}, errors.New("From_ line date has no month")
	case day < 1 || day > 31:
		return time.Time{}, errors.New("From_ line date has no day of the month")
	case hour < 0:
		return time.Time{}, errors.New("From_ line date has no time of day")
	case year < 0:
		return time.Time{}, errors.New("From_ line date has no four-digit year")
	}
	if zone == nil {
		zone = time.UTC
	}
	t := time.Date(year, month, day, hour, minute, second, 0, zone)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("From_ line date: %s has no day %d", month, day)
	}
	// A writer must be able to put the date back in four digits.
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("From_ line date: year %d out of range", y)
	}
	return t, nil
}

func hasZoneName(s string) bool {
	_, ok := zoneNames[s]
	return ok
}

// parseClock reads "hh:mm" or "hh:mm:ss".
func parseClock(t string) (h, m, s int, err error) {
	parts := strings.Split(t, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, fmt.Errorf("From_ line time %q is not hh:mm:ss", t)
	}
	var v [3]int
	for i, p := range parts {
		if !isDigits(p) || len(p) > 2 {
			return 0, 0, 0, fmt.Errorf("From_ line time %q is not hh:mm:ss", t)
		}
		v[i], _ = strconv.Atoi(p)
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 59 {
		return 0, 0, 0, fmt.Errorf("From_ line time %q out of range", t)
	}
	return v[0], v[1], v[2], nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatFromLine returns the From_ line for sender and date (without line
// ending): asctime in UTC, because mbox keeps no zone and readers take the
// date as UTC (or local time, which is the same on a server set to UTC).
func formatFromLine(sender string, date time.Time) string {
	return "From " + sender + " " + date.UTC().Format(time.ANSIC)
}

// maxSender is the longest sender a From_ line gets: RFC 5321's limit for a
// path, far below what a Reader keeps of a From_ line.
const maxSender = 256

// fromSender returns a sender a From_ line can hold: one word without
// control characters, or MAILER-DAEMON, the traditional sender of bounces.
func fromSender(s string) string {
	if s == "" || s == "<>" || len(s) > maxSender || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "MAILER-DAEMON"
	}
	return s
}
