package transform

import (
	"errors"
	"io"
	"mime"
	"strings"
)

// entityKind says what the walker does with an entity's body.
type entityKind int

const (
	kindLeaf      entityKind = iota // a body that can be re-encoded
	kindMultipart                   // parts between boundaries
	kindMessage                     // message/rfc822: a header and a body again
	kindOpaque                      // to be copied as it is
)

// entityInfo is what an entity's header says about its body.
type entityInfo struct {
	kind      entityKind
	mediaType string // for reports
	dash      []byte // multipart: "--" + boundary
	cte       string // Content-Transfer-Encoding, lower case, "" if none
	why       string // opaque: why its lines cannot be fixed
}

// inspectHeader reads Content-Type and Content-Transfer-Encoding as
// go-message does (the first of each field) and says what the body is.
func inspectHeader(section []byte) entityInfo {
	fields, _ := splitHeader(section)
	info := entityInfo{kind: kindLeaf, mediaType: "text/plain"}
	if f, ok := firstField(fields, "Content-Transfer-Encoding"); ok {
		info.cte = strings.ToLower(f.value())
	}
	f, ok := firstField(fields, "Content-Type")
	if !ok || f.value() == "" {
		return info
	}
	ct := f.value()
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t, _, _ := strings.Cut(ct, ";")
		info.mediaType = strings.ToLower(strings.TrimSpace(t))
		if strings.HasPrefix(info.mediaType, "multipart/") {
			info.kind, info.why = kindOpaque, "its Content-Type cannot be parsed"
		}
		return info
	}
	info.mediaType = mt
	identity := info.cte == "" || info.cte == "7bit" || info.cte == "8bit" || info.cte == "binary"
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		// go-message decodes RFC 2047 words in parameters, and ignores a
		// multipart's Content-Transfer-Encoding (RFC 2045 forbids any but
		// identity there; some senders put one anyway).
		b := params["boundary"]
		dec := mime.WordDecoder{CharsetReader: func(string, io.Reader) (io.Reader, error) {
			return nil, errors.New("unknown charset")
		}}
		if d, err := dec.DecodeHeader(b); err == nil {
			b = d
		}
		if b == "" {
			info.kind, info.why = kindOpaque, "multipart without boundary"
			return info
		}
		info.kind, info.dash = kindMultipart, []byte("--"+b)
	case (mt == "message/rfc822" || mt == "message/global") && identity:
		info.kind = kindMessage
	case strings.HasPrefix(mt, "message/") && mt != "message/rfc822" && mt != "message/global":
		// RFC 2046 section 5.2 allows these no encoding but 7bit.
		info.kind, info.why = kindOpaque, mt+" cannot be re-encoded"
	}
	return info
}

// leafAction is how a leaf with long lines is fixed.
type leafAction int

const (
	actionNone         leafAction = iota
	actionQuotedPrint             // re-encode an identity body as quoted-printable
	actionRewrapQP                // insert soft line breaks into quoted-printable
	actionRewrapBase64            // insert line breaks into base64
	actionCannotEncode            // unknown Content-Transfer-Encoding
)

func actionFor(cte string) leafAction {
	switch cte {
	case "", "7bit", "8bit", "binary":
		return actionQuotedPrint
	case "quoted-printable":
		return actionRewrapQP
	case "base64":
		return actionRewrapBase64
	}
	return actionCannotEncode
}
