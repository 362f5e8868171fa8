package maprule

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec, in, want string
		ok             bool
	}{
		{"^Sent$=Sent Items", "Sent", "Sent Items", true},
		{`a\=b=c`, "a=b", "c", true},
		{"s/^INBOX\\.//", "INBOX.Work", "Work", true},
		{"s#Old/#Archive/#g", "Old/2020", "Archive/2020", true},
		{"s/^sent$/Sent/i", "SENT", "Sent", true},
		{"s/(a)/$2/", "", "", false},
		{"no equals", "", "", false},
		{"=x", "", "", false},
		{"s=a=b=", "s", "", false}, // checked below: "=" is never a sed delimiter
	} {
		r, err := Parse(tc.spec)
		if tc.spec == "s=a=b=" {
			// Read as REGEX=REPLACEMENT: "s" -> "a=b=".
			if err != nil || r.Pattern.ReplaceAllString("s", r.Replacement) != "a=b=" {
				t.Errorf("%q: %v", tc.spec, err)
			}
			continue
		}
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok %v", tc.spec, err, tc.ok)
			continue
		}
		if err == nil {
			if got := r.Pattern.ReplaceAllString(tc.in, r.Replacement); got != tc.want {
				t.Errorf("%q on %q: %q, want %q", tc.spec, tc.in, got, tc.want)
			}
		}
	}
}
