package format

import (
	"fmt"
	"strconv"
)

// maxQuotedName is how much of a name QuoteName shows.
const maxQuotedName = 200

// QuoteName returns a name that came from a server (a folder, an account) as
// a Go-quoted string, safe to print: control characters and invalid UTF-8
// are escaped, and a name longer than a line is cut, with its length said.
func QuoteName(s string) string {
	if len(s) <= maxQuotedName {
		return strconv.Quote(s)
	}
	cut := maxQuotedName
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut-- // do not split a UTF-8 sequence
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
