package foldermap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mailferry/mailferry/importer/maprule"
)

// ErrRule is wrapped by every error about a --map rule.
var ErrRule = errors.New("invalid --map rule")

// ParseRule reads a --map rule. It splits at the first "=" that is not
// written "\=" (a pattern that must match "=" writes "\="); "\=" is "=" on
// both sides.
func ParseRule(spec string) (maprule.Rule, error) {
	r, err := maprule.Parse(spec)
	if err != nil {
		return maprule.Rule{}, fmt.Errorf("%w %q: %w", ErrRule, spec, err)
	}
	return r, nil
}

// ParseRules reads the rules of repeated --map options, in their order.
func ParseRules(specs []string) ([]maprule.Rule, error) {
	rules := make([]maprule.Rule, 0, len(specs))
	for i, spec := range specs {
		r, err := maprule.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("%w %d %q: %w", ErrRule, i+1, spec, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
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
		return fmt.Errorf("%w %d %q: makes an empty name of %q", ErrRule, last, m.opts.Rules[last-1].Spec, pf.out.Source.Name)
	}
	p, notes := m.parseDestName(name)
	pf.path, pf.ruled = p, true
	pf.out.Changes = append(pf.out.Changes, notes...)
	return nil
}
