package main

import (
	"strings"
	"testing"
)

func TestHoistFlags(t *testing.T) {
	cases := []struct{ in, want string }{
		{"mailferry archive ls DIR --json", "mailferry archive ls --json DIR"},
		{"mailferry archive ls DIR --account a@b --json", "mailferry archive ls --account a@b --json DIR"},
		{"mailferry archive extract DIR --to=maildir:/x", "mailferry archive extract --to=maildir:/x DIR"},
		{"mailferry archive cat DIR ID", "mailferry archive cat DIR ID"},
		{"mailferry -v archive verify DIR", "mailferry -v archive verify DIR"},
		{"mailferry export --from maildir:x --archive a", "mailferry export --from maildir:x --archive a"},
		{"mailferry archive cat DIR -- -notaflag", "mailferry archive cat DIR -- -notaflag"},
	}
	app := newApp()
	for _, c := range cases {
		got := strings.Join(hoistFlags(app, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("hoistFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
