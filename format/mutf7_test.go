package format

import (
	"strings"
	"testing"
)

func TestMUTF7(t *testing.T) {
	tests := []struct {
		utf8, mutf7 string
	}{
		{"", ""},
		{"INBOX", "INBOX"},
		{"&", "&-"},
		{"Q&A", "Q&-A"},
		{"&&", "&-&-"},
		{"Öffentliche Ordner", "&ANY-ffentliche Ordner"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Gelöschte Elemente", "Gel&APY-schte Elemente"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
		{"😀", "&2D3eAA-"},
		{"a😀b🎉c", "a&2D3eAA-b&2DzfiQ-c"},
		{"tab\there", "tab&AAk-here"},
		{"\x7f", "&AH8-"},
		{"ü&ö", "&APw-&-&APY-"},
		{"-", "-"},
		{"trailing ", "trailing "},
	}
	for _, tt := range tests {
		if got := EncodeMUTF7(tt.utf8); got != tt.mutf7 {
			t.Errorf("EncodeMUTF7(%q) = %q, want %q", tt.utf8, got, tt.mutf7)
		}
		got, err := DecodeMUTF7(tt.mutf7)
		if err != nil || got != tt.utf8 {
			t.Errorf("DecodeMUTF7(%q) = %q, %v; want %q", tt.mutf7, got, err, tt.utf8)
		}
	}
}

func TestDecodeMUTF7Invalid(t *testing.T) {
	tests := []struct {
		in, why string
	}{
		{"&", "no closing"},
		{"abc&AOQ", "no closing"},
		{"&AOQ", "no closing"},
		{"Entwürfe", "must be base64-encoded"},
		{"a\tb", "must be base64-encoded"},
		{"&AGE-", "printable ASCII"},       // "a" in base64
		{"&ACY-", "printable ASCII"},       // "&" in base64
		{"&AOQ=-", "not modified base64"},  // padding
		{"&AO/k-", "not modified base64"},  // "/" instead of ","
		{"&A\nOQ-", "not modified base64"}, // the decoder would skip the LF
		{"&A-", "not modified base64"},     // one character is no byte
		{"&AOR-", "not modified base64"},   // nonzero bits after the last byte
		{"&AOQA-", "whole UTF-16"},         // three bytes
		{"&AA-", "whole UTF-16"},           // one byte
		{"&2D0-", "unpaired"},              // high surrogate alone
		{"&3gA-", "unpaired"},              // low surrogate alone
		{"&2D3YPQ-", "unpaired"},           // two high surrogates
		{"x&2D0-&3gA-", "unpaired"},        // a pair split over two runs
		{"&ANYA5A-&2D3e-", "whole UTF-16"}, // the second run has three bytes
		{"&U,BTFw", "no closing"},
	}
	for _, tt := range tests {
		got, err := DecodeMUTF7(tt.in)
		if err == nil {
			t.Errorf("DecodeMUTF7(%q) = %q, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.why) {
			t.Errorf("DecodeMUTF7(%q) error %q does not say %q", tt.in, err, tt.why)
		}
	}
}
