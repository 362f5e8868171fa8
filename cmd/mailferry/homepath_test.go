package main

import (
	"path/filepath"
	"testing"
)

func TestExpandHome(t *testing.T) {
	t.Setenv("HOME", "/home/ann")
	for _, tc := range []struct{ in, want string }{
		{"~/Maildir", "/home/ann/Maildir"}, {"~", "/home/ann"}, {"/var/mail", "/var/mail"},
		{"~bob/Maildir", "~bob/Maildir"}, {"rel/~/x", "rel/~/x"},
	} {
		if got := expandHome(tc.in); got != filepath.Clean(tc.want) && got != tc.want {
			t.Errorf("expandHome(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
