package transform

import (
	"errors"
	"strings"
	"testing"
)

func TestProfileByName(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		line                  int
		size                  int64
		dropKeywords, flagged bool
		pace                  float64
	}{
		{"exchange", 9900, 10_000_000, true, true, 4},
		{"Office365", 10500, 35_000_000, false, true, 4},
		{"gmail", 0, 35_651_584, false, false, 0},
		{"cyrus", 0, 0, false, false, 0},
		{" dovecot ", 0, 0, false, false, 0},
	} {
		p, err := ProfileByName(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if p.MaxLineLength != tt.line || p.MaxSize != tt.size || p.DropKeywords != tt.dropKeywords ||
			p.FlaggedAfterAppend != tt.flagged || p.MessagesPerSecond != tt.pace {
			t.Errorf("%s: %+v", tt.name, p)
		}
		if p.MaxLineLength != 0 && p.MaxLineLength < MinLineLimit {
			t.Errorf("%s: line limit %d below %d", tt.name, p.MaxLineLength, MinLineLimit)
		}
		tr := p.Transforms()
		if tr.MaxLineLength != p.MaxLineLength || tr.MaxSize != p.MaxSize || tr.Headers.DisarmReadReceipts != p.DisarmReadReceipts ||
			tr.Flags.DropKeywords != p.DropKeywords || tr.Profile.Name != p.Name {
			t.Errorf("%s: transforms %+v", tt.name, tr)
		}
	}
	_, err := ProfileByName("groupwise")
	if !errors.Is(err, ErrUnknownProfile) || !strings.Contains(err.Error(), "exchange, office365, gmail, cyrus, dovecot") {
		t.Errorf("unknown profile: %v", err)
	}
	for _, tc := range []struct{ host, want string }{
		{"outlook.office365.com", "office365"}, {"IMAP.gmail.com.", "gmail"}, {"mail.example.org", ""},
	} {
		p, ok := ProfileForHost(tc.host)
		if p.Name != tc.want || ok != (tc.want != "") {
			t.Errorf("profile for %s: %q %v, want %q", tc.host, p.Name, ok, tc.want)
		}
	}
	// Office 365 takes 150 MB at most, whatever --max-size says.
	for _, tc := range []struct {
		max int64
		ok  bool
	}{{0, false}, {35_000_000, true}, {150_000_000, true}, {150_000_001, false}} {
		tr := must(ProfileByName("office365")).Transforms()
		tr.MaxSize = tc.max
		if err := tr.Validate(); (err == nil) != tc.ok {
			t.Errorf("office365 with --max-size %d: %v", tc.max, err)
		}
	}
	// A caller changing its copy must not change the next one's.
	p, _ := ProfileByName("office365")
	p.DropFlags[0] = "changed"
	if q, _ := ProfileByName("office365"); q.DropFlags[0] != "$MDNSent" {
		t.Errorf("profile table changed through a copy: %q", q.DropFlags)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
