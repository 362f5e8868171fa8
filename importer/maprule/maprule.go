package maprule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Rule is one 'REGEX=REPLACEMENT' rule (--map, --flag-map), the equivalent
// of imapsync's --regextrans2 's/REGEX/REPLACEMENT/g'. REGEX is Go regexp
// syntax; REPLACEMENT refers to groups as $1, ${1} or ${name} (write ${1}x,
// not $1x, which would name a group "1x"). Every match is replaced, so
// anchor with ^ and $ to rename whole names.
type Rule struct {
	Pattern     *regexp.Regexp
	Replacement string
	// Spec is the rule as the user wrote it, for reports.
	Spec string
}

// ParseSed reads imapsync's --regextrans2 form, 's/REGEX/REPLACEMENT/'
// with any delimiter and an optional g (every match is replaced anyway) or
// i (case-insensitive): what imapsync's users paste.
func ParseSed(spec string) (Rule, error) {
	if len(spec) < 4 || spec[0] != 's' {
		return Rule{}, errors.New("not of the form s/REGEX/REPLACEMENT/")
	}
	delim := spec[1]
	parts := strings.Split(spec[2:], string(delim))
	if len(parts) != 3 || strings.Trim(parts[2], "gi") != "" {
		return Rule{}, fmt.Errorf("not of the form s%cREGEX%cREPLACEMENT%c[gi]", delim, delim, delim)
	}
	pattern := parts[0]
	if strings.Contains(parts[2], "i") {
		pattern = "(?i)" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Rule{}, err
	}
	if err := checkReplacement(re, parts[1]); err != nil {
		return Rule{}, err
	}
	return Rule{Pattern: re, Replacement: parts[1], Spec: spec}, nil
}

// Parse reads a rule. It splits at the first "=" that is not written "\="
// (a pattern that must match "=" writes "\="); "\=" is "=" on both sides.
// A rule in imapsync's s/REGEX/REPLACEMENT/ form is read as ParseSed does.
// Errors say what is wrong but not which option: the caller wraps them.
func Parse(spec string) (Rule, error) {
	if len(spec) >= 4 && spec[0] == 's' && strings.Count(spec, spec[1:2]) >= 3 && !strings.ContainsRune(`\=`, rune(spec[1])) && (spec[1] < 'a' || spec[1] > 'z') && (spec[1] < 'A' || spec[1] > 'Z') && (spec[1] < '0' || spec[1] > '9') {
		if r, err := ParseSed(spec); err == nil {
			return r, nil
		}
	}
	at := -1
	for i := 0; i < len(spec); i++ {
		if spec[i] == '\\' {
			i++ // whatever follows a backslash is escaped, "=" included
			continue
		}
		if spec[i] == '=' {
			at = i
			break
		}
	}
	if at < 0 {
		return Rule{}, errors.New(`no "=" between REGEX and REPLACEMENT`)
	}
	pattern, replacement := unescapeEquals(spec[:at]), unescapeEquals(spec[at+1:])
	if pattern == "" {
		return Rule{}, errors.New("empty REGEX")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Rule{}, err
	}
	if err := checkReplacement(re, replacement); err != nil {
		return Rule{}, err
	}
	return Rule{Pattern: re, Replacement: replacement, Spec: spec}, nil
}

// unescapeEquals turns "\=" into "=" and leaves every other escape as it
// is, for regexp to read.
func unescapeEquals(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if s[i+1] != '=' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkReplacement rejects references to groups the pattern lacks:
// regexp.Expand would silently put nothing there, and a rule that makes
// "Archive/" out of every name is better refused before the import.
func checkReplacement(re *regexp.Regexp, replacement string) error {
	for i := 0; i < len(replacement); i++ {
		if replacement[i] != '$' {
			continue
		}
		name, width := replacementRef(replacement[i+1:])
		i += width
		if name == "" {
			continue
		}
		if n, err := strconv.Atoi(name); err == nil {
			if n > re.NumSubexp() {
				return fmt.Errorf("$%s: REGEX has no group %d", name, n)
			}
			continue
		}
		if re.SubexpIndex(name) < 0 {
			d := 0
			for d < len(name) && '0' <= name[d] && name[d] <= '9' {
				d++
			}
			if d > 0 {
				return fmt.Errorf("$%s names no group; for group %s followed by %q write ${%s}%s",
					name, name[:d], name[d:], name[:d], name[d:])
			}
			return fmt.Errorf("$%s names no group", name)
		}
	}
	return nil
}

// replacementRef reads the reference after a "$" the way regexp.Expand
// does: "$" (an escaped dollar, no name), "{name}" or the longest run of
// letters, digits and "_". It returns the name and how many bytes it took.
func replacementRef(s string) (string, int) {
	nameByte := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	if strings.HasPrefix(s, "$") {
		return "", 1
	}
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 2 {
			return "", 0 // malformed: Expand copies the "$" as it is
		}
		for i := 1; i < end; i++ {
			if !nameByte(s[i]) {
				return "", 0
			}
		}
		return s[1:end], end + 1
	}
	n := 0
	for n < len(s) && nameByte(s[n]) {
		n++
	}
	return s[:n], n
}
