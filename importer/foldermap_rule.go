package importer

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrMapRule is wrapped by every error about a --map rule.
var ErrMapRule = errors.New("invalid --map rule")

// MapRule is one --map 'REGEX=REPLACEMENT' rule, the equivalent of
// imapsync's --regextrans2 's/REGEX/REPLACEMENT/g'. REGEX is Go regexp
// syntax; REPLACEMENT refers to groups as $1, ${1} or ${name} (write ${1}x,
// not $1x, which would name a group "1x"). Every match is replaced, so
// anchor with ^ and $ to rename whole names.
type MapRule struct {
	Pattern     *regexp.Regexp
	Replacement string
	// Spec is the rule as the user wrote it, for reports.
	Spec string
}

// ParseMapRule reads a rule. It splits at the first "=" that is not
// written "\=" (a pattern that must match "=" writes "\="); "\=" is "=" on
// both sides.
func ParseMapRule(spec string) (MapRule, error) {
	r, err := parseMapRule(spec)
	if err != nil {
		return MapRule{}, fmt.Errorf("%w %q: %w", ErrMapRule, spec, err)
	}
	return r, nil
}

// ParseMapRules reads the rules of repeated --map options, in their order.
func ParseMapRules(specs []string) ([]MapRule, error) {
	rules := make([]MapRule, 0, len(specs))
	for i, spec := range specs {
		r, err := parseMapRule(spec)
		if err != nil {
			return nil, fmt.Errorf("%w %d %q: %w", ErrMapRule, i+1, spec, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseMapRule(spec string) (MapRule, error) {
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
		return MapRule{}, errors.New(`no "=" between REGEX and REPLACEMENT`)
	}
	pattern, replacement := unescapeEquals(spec[:at]), unescapeEquals(spec[at+1:])
	if pattern == "" {
		return MapRule{}, errors.New("empty REGEX")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return MapRule{}, err
	}
	if err := checkReplacement(re, replacement); err != nil {
		return MapRule{}, err
	}
	return MapRule{Pattern: re, Replacement: replacement, Spec: spec}, nil
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

// applyRules runs the rules over the folder's name as translated.
func (m *folderMapper) applyRules(pf *plannedFolder) error {
	before := m.relativeName(pf.path)
	name, last := before, 0
	for i, r := range m.opts.Rules {
		renamed := r.Pattern.ReplaceAllString(name, r.Replacement)
		if renamed != name {
			pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("rule %d: %s", i+1, r.Spec))
			name, last = renamed, i+1
		}
	}
	if name == before {
		return nil
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w %d %q: makes an empty name of %q", ErrMapRule, last, m.opts.Rules[last-1].Spec, pf.out.Source.Name)
	}
	p, notes := m.parseDestName(name)
	pf.path, pf.ruled = p, true
	pf.out.Changes = append(pf.out.Changes, notes...)
	return nil
}
