package foldermap

import (
	"fmt"
	"slices"
	"strings"
)

// Creation is one CREATE of the plan.
type Creation struct {
	Name       string
	SpecialUse string
}

// ToCreate lists every folder the mappings need created, each once,
// parents before their children.
func ToCreate(mappings []Mapping) []Creation {
	uses := map[string]string{}
	for _, fm := range mappings {
		if fm.Create && fm.SpecialUse != "" && uses[fm.Dest] == "" {
			uses[fm.Dest] = fm.SpecialUse
		}
	}
	var out []Creation
	seen := map[string]bool{}
	for _, fm := range mappings {
		if !fm.Create {
			continue
		}
		for _, name := range append(slices.Clip(fm.Parents), fm.Dest) {
			if !seen[name] {
				seen[name] = true
				out = append(out, Creation{Name: name, SpecialUse: uses[name]})
			}
		}
	}
	return out
}

// settle fills in Dest, Exists, Create and Parents, and notes merges.
func (m *folderMapper) settle(planned []*plannedFolder) {
	for _, pf := range planned {
		if pf.out.Excluded {
			continue
		}
		if pf.fixed != "" {
			pf.out.Dest, pf.out.Exists = pf.fixed, true
		} else {
			m.settlePath(pf)
		}
		if pf.noselect {
			pf.out.Changes = append(pf.out.Changes, `\Noselect: parent only, created only if a child needs it`)
		}
		pf.out.Create = !pf.out.Exists && !pf.noselect
		if !pf.out.Create {
			pf.out.Parents, pf.out.SpecialUse = nil, ""
		}
	}
	m.noteMerges(planned)
}

// settlePath spells the path the way the destination (or an earlier
// mapping) already spells it, so that one folder has one name throughout
// the plan, and finds the parents to create.
func (m *folderMapper) settlePath(pf *plannedFolder) {
	p := pf.path
	if len(p.levels) == 0 {
		pf.out.Dest, pf.out.Exists = "INBOX", true
		return
	}
	fulls := make([]string, len(p.levels))
	for i, level := range p.levels {
		name := m.rootName(p.inbox) + level
		if i > 0 {
			name = fulls[i-1] + m.delim + level
		}
		key := m.fold(name)
		if spelled, ok := m.spelling[key]; ok {
			name = spelled
		} else {
			m.spelling[key] = name
		}
		fulls[i] = name
	}
	pf.out.Dest = fulls[len(fulls)-1]
	pf.out.Exists = m.exists(pf.out.Dest)
	if natural := m.fullName(p); pf.out.Dest != natural {
		why := "spelled as the destination spells it"
		if m.dst.CaseInsensitive {
			why = "one folder on this case-insensitive server"
		}
		pf.out.Changes = append(pf.out.Changes, fmt.Sprintf("%q -> %q: %s", natural, pf.out.Dest, why))
	}
	for _, parent := range fulls[:len(fulls)-1] {
		if !m.exists(parent) {
			pf.out.Parents = append(pf.out.Parents, parent)
		}
	}
}

// noteMerges tells, for every destination folder that receives more than
// one source folder, which others it receives.
func (m *folderMapper) noteMerges(planned []*plannedFolder) {
	groups := map[string][]*plannedFolder{}
	for _, pf := range planned {
		if !pf.out.Excluded {
			key := m.fold(pf.out.Dest)
			groups[key] = append(groups[key], pf)
		}
	}
	for _, pf := range planned {
		group := groups[m.fold(pf.out.Dest)]
		if pf.out.Excluded || len(group) < 2 {
			continue
		}
		var others []string
		for _, o := range group {
			if o != pf {
				others = append(others, fmt.Sprintf("%q", o.out.Source.Name))
			}
		}
		pf.out.Changes = append(pf.out.Changes, "merged with "+strings.Join(others, ", "))
	}
}
