package format

import (
	"testing"
	"unicode/utf8"
)

func FuzzDecodeMUTF7(f *testing.F) {
	for _, s := range []string{"", "&-", "Entw&APw-rfe", "&2D3eAA-", "Q&-A", "&ANY-ffentliche Ordner", "Öffentliche", "&AGE-", "&2D0-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any valid UTF-8 survives encoding and decoding, and its encoding
		// is printable ASCII only.
		if utf8.ValidString(s) {
			enc := EncodeMUTF7(s)
			for i := 0; i < len(enc); i++ {
				if enc[i] < 0x20 || enc[i] > 0x7e {
					t.Fatalf("EncodeMUTF7(%q) = %q holds byte 0x%02x", s, enc, enc[i])
				}
			}
			dec, err := DecodeMUTF7(enc)
			if err != nil || dec != s {
				t.Fatalf("DecodeMUTF7(EncodeMUTF7(%q)) = %q, %v", s, dec, err)
			}
		}
		// Whatever decodes is valid UTF-8 and has one spelling: encoding it
		// again and decoding gives it back.
		dec, err := DecodeMUTF7(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(dec) {
			t.Fatalf("DecodeMUTF7(%q) = %q, not UTF-8", s, dec)
		}
		again, err := DecodeMUTF7(EncodeMUTF7(dec))
		if err != nil || again != dec {
			t.Fatalf("round trip of %q (from %q) = %q, %v", dec, s, again, err)
		}
	})
}
