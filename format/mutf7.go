package format

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Modified UTF-7 is IMAP's folder name encoding (RFC 3501 section 5.1.3), and
// Dovecot and Courier keep it in Maildir++ directory names: printable ASCII
// stands for itself except "&", which is "&-"; everything else is UTF-16 in a
// base64 variant (with "," for "/") between "&" and "-".

// mutf7Base64 is RFC 3501's base64: "," instead of "/", no padding, and
// Strict so that non-zero bits after the last whole byte are an error.
var mutf7Base64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").
	WithPadding(base64.NoPadding).Strict()

// EncodeMUTF7 returns s in modified UTF-7. Bytes of s that are not valid UTF-8
// are encoded as U+FFFD; callers that must not lose them check
// utf8.ValidString first.
func EncodeMUTF7(s string) string {
	var b strings.Builder
	var run []uint16
	flush := func() {
		if len(run) == 0 {
			return
		}
		raw := make([]byte, 0, 2*len(run))
		for _, u := range run {
			raw = append(raw, byte(u>>8), byte(u))
		}
		b.WriteByte('&')
		b.WriteString(mutf7Base64.EncodeToString(raw))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if isPrintableASCII(r) {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		run = utf16.AppendRune(run, r)
	}
	flush()
	return b.String()
}

// DecodeMUTF7 returns the UTF-8 form of the modified UTF-7 string s. It is
// strict: raw bytes outside printable ASCII, a "&" without its "-", base64
// that is malformed or not whole UTF-16, unpaired surrogates and printable
// ASCII hidden in base64 are errors, because a name that can be spelled two
// ways cannot be mapped back to the one directory it came from.
func DecodeMUTF7(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("modified UTF-7 %q: byte 0x%02x at offset %d must be base64-encoded", s, c, i)
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", fmt.Errorf("modified UTF-7 %q: \"&\" at offset %d has no closing \"-\"", s, i)
		}
		enc := s[i+1 : i+1+end]
		if enc == "" {
			b.WriteByte('&')
		} else if err := decodeShifted(&b, enc); err != nil {
			return "", fmt.Errorf("modified UTF-7 %q at offset %d: %w", s, i, err)
		}
		i += end + 2
	}
	return b.String(), nil
}

// decodeShifted appends the characters of one base64 run (between "&" and "-").
func decodeShifted(b *strings.Builder, enc string) error {
	for i := 0; i < len(enc); i++ {
		// The base64 decoder skips CR and LF; a name must not.
		if !isMUTF7Base64(enc[i]) {
			return fmt.Errorf("%q is not modified base64: character %q", enc, enc[i])
		}
	}
	raw, err := mutf7Base64.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("%q is not modified base64: %v", enc, err)
	}
	if len(raw)%2 != 0 {
		return fmt.Errorf("%q does not decode to whole UTF-16 units", enc)
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	for i := 0; i < len(units); i++ {
		r := rune(units[i])
		switch {
		case utf16.IsSurrogate(r):
			if i+1 == len(units) {
				return fmt.Errorf("%q ends in an unpaired UTF-16 surrogate", enc)
			}
			r = utf16.DecodeRune(r, rune(units[i+1]))
			if r == '\uFFFD' {
				return fmt.Errorf("%q holds an unpaired UTF-16 surrogate", enc)
			}
			i++
		case isPrintableASCII(r):
			return fmt.Errorf("%q encodes printable ASCII %q, which must stand for itself", enc, r)
		}
		b.WriteRune(r)
	}
	return nil
}

func isPrintableASCII(r rune) bool { return r >= 0x20 && r <= 0x7e }

func isMUTF7Base64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == ','
}
