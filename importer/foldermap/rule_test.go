package foldermap

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/maprule"
)

func TestParseMapRule(t *testing.T) {
	valid := []struct {
		spec, pattern, replacement string
		in, out                    string
	}{
		{`^Old/(.*)=Archive/$1`, `^Old/(.*)`, `Archive/$1`, "Old/2020", "Archive/2020"},
		{`^Old\.(.*)=Archive.${1}x`, `^Old\.(.*)`, `Archive.${1}x`, "Old.a", "Archive.ax"},
		{`a\=b=c`, `a=b`, `c`, "xa=by", "xcy"},
		{`x=a=b`, `x`, `a=b`, "x", "a=b"},
		{`x=a\=b`, `x`, `a=b`, "x", "a=b"},
		{`\\=z`, `\\`, `z`, `a\b`, "azb"},
		{`^(?P<year>20[0-9]{2})$=Years/${year}`, `^(?P<year>20[0-9]{2})$`, `Years/${year}`, "2021", "Years/2021"},
		{`^(.*)$=$$1`, `^(.*)$`, `$$1`, "foo", "$1"},
		{`/=_`, `/`, `_`, "a/b/c", "a_b_c"},
		{`^Sent$=`, `^Sent$`, ``, "Sent", ""},
	}
	for _, tt := range valid {
		r, err := ParseRule(tt.spec)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.spec, err)
			continue
		}
		if r.Pattern.String() != tt.pattern || r.Replacement != tt.replacement || r.Spec != tt.spec {
			t.Errorf("ParseRule(%q) = %q, %q, %q; want %q, %q", tt.spec, r.Pattern, r.Replacement, r.Spec, tt.pattern, tt.replacement)
		}
		if got := r.Pattern.ReplaceAllString(tt.in, r.Replacement); got != tt.out {
			t.Errorf("rule %q on %q = %q, want %q", tt.spec, tt.in, got, tt.out)
		}
	}

	invalid := []struct{ spec, why string }{
		{`noequals`, `no "=" between REGEX and REPLACEMENT`},
		{`a\=b`, `no "="`},
		{`=x`, "empty REGEX"},
		{`([=x`, "missing closing"},
		{`(a)=$2`, "$2: REGEX has no group 2"},
		{`(a)=${2}`, "$2: REGEX has no group 2"},
		{`(a)=$1x`, `$1x names no group; for group 1 followed by "x" write ${1}x`},
		{`(?P<y>a)=${nope}`, "$nope names no group"},
	}
	for _, tt := range invalid {
		_, err := ParseRule(tt.spec)
		if err == nil {
			t.Errorf("ParseRule(%q) succeeded", tt.spec)
			continue
		}
		if !errors.Is(err, ErrRule) || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), strconv.Quote(tt.spec)) {
			t.Errorf("ParseRule(%q) = %v; want ErrRule naming the rule and %q", tt.spec, err, tt.why)
		}
	}
}

func TestParseMapRulesNamesTheRule(t *testing.T) {
	_, err := ParseRules([]string{`^a$=b`, `(x)=$2`})
	if err == nil || !errors.Is(err, ErrRule) || !strings.Contains(err.Error(), `rule 2 "(x)=$2"`) {
		t.Fatalf("ParseRules = %v, want an error naming rule 2", err)
	}
	rules, err := ParseRules(nil)
	if err != nil || len(rules) != 0 {
		t.Fatalf("ParseRules(nil) = %v, %v", rules, err)
	}
}

func TestMapFoldersErrors(t *testing.T) {
	src := folders("/", "INBOX", "Sent")
	tests := []struct {
		name string
		src  []format.Folder
		dst  Destination
		opts Options
		why  string
	}{
		{"a rule makes an empty name", src, dovecotDest("INBOX"),
			Options{Rules: mustRules(t, `^Sent$=`)}, `rule 1 "^Sent$=": makes an empty name of "Sent"`},
		{"a rule without a pattern", src, dovecotDest("INBOX"),
			Options{Rules: []maprule.Rule{{Spec: "x"}}}, "no pattern"},
		{"a long destination delimiter", src,
			Destination{Namespace: format.Namespace{Delimiter: "::"}}, Options{}, "not one character"},
		{"a long source delimiter", folders("::", "a::b"), dovecotDest("INBOX"), Options{}, `source folder "a::b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Map(tt.src, dovecotNS, tt.dst, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("Map = %v, want an error saying %q", err, tt.why)
			}
		})
	}
}
