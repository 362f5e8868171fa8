package transform

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailferry/mailferry/format"
)

// ProvenanceHeader is the field --provenance adds to every imported message.
const ProvenanceHeader = "X-Mailferry-Source"

// Provenance returns the X-Mailferry-Source field for a message of account:
// account, folder and UID (UIDL for POP3 sources) as MIME parameters, e.g.
//
//	X-Mailferry-Source: account="alice@example.com"; folder="Sent Items"; uid=42
//
// Parameters keep folder names with spaces, quotes and non-ASCII letters
// readable by a program: a quoted-string, or RFC 2231's folder*=utf-8”...
func Provenance(account string, m format.Message) HeaderAdd {
	params := []string{mimeParam("account", account), mimeParam("folder", m.Folder)}
	if m.UID != 0 || m.UIDL == "" {
		params = append(params, "uid="+strconv.FormatUint(uint64(m.UID), 10))
	} else {
		params = append(params, mimeParam("uidl", m.UIDL))
	}
	return HeaderAdd{Name: ProvenanceHeader, Value: strings.Join(params, "; ")}
}

// mimeParam formats one parameter as RFC 2045 and RFC 2231 spell them.
func mimeParam(name, value string) string {
	token, printable := value != "", true
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c < 32 || c > 126 {
			token, printable = false, false
			break
		}
		if c == ' ' || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			token = false
		}
	}
	switch {
	case token:
		return name + "=" + value
	case printable:
		return name + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
	}
	var b strings.Builder
	b.WriteString(name + "*=utf-8''")
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c > 32 && c < 127 && strings.IndexByte(`*'%()<>@,;:\"/[]?=`, c) < 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
