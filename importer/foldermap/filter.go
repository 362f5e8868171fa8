package foldermap

import (
	"fmt"
	"strings"
)

// filterOut applies --exclude and --include to a source folder's name
// (without prefix, levels joined by "/"; see Options) and says
// which of them left it out.
func (m *folderMapper) filterOut(name string) (bool, string) {
	for _, re := range m.opts.Exclude {
		if re.MatchString(name) {
			return true, fmt.Sprintf("excluded by --exclude %q", re.String())
		}
	}
	if len(m.opts.Include) == 0 {
		return false, ""
	}
	var includes []string
	for _, re := range m.opts.Include {
		if re.MatchString(name) {
			return false, ""
		}
		includes = append(includes, fmt.Sprintf("%q", re.String()))
	}
	return true, "excluded: matches no --include " + strings.Join(includes, ", ")
}
