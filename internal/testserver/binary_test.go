package testserver

import (
	"fmt"
	"testing"
)

// recordingTB notes how RequireBinary ends a test instead of ending it.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()           {}
func (r *recordingTB) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recordingTB) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

func TestRequireBinary(t *testing.T) {
	const missing = "dovecot-that-is-not-installed"
	tests := []struct {
		ci        string
		wantFatal bool
	}{
		{"true", true},
		{"", false},
		{"false", false},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec := &recordingTB{TB: t}
			RequireBinary(rec, missing)
			got := rec.skip
			if tt.wantFatal {
				got = rec.fatal
			}
			if got != missing+" not installed" {
				t.Errorf("fatal %q, skip %q; want %t for fatal", rec.fatal, rec.skip, tt.wantFatal)
			}
		})
	}

	t.Run("hint names the packages", func(t *testing.T) {
		t.Setenv("CI", "true")
		t.Setenv("PATH", t.TempDir())
		old := sbinDirs
		sbinDirs = nil
		t.Cleanup(func() { sbinDirs = old })
		rec := &recordingTB{TB: t}
		RequireBinary(rec, "dovecot")
		if want := "dovecot not installed; .ci/run installs dovecot-imapd dovecot-pop3d"; rec.fatal != want {
			t.Errorf("fatal %q, want %q", rec.fatal, want)
		}
	})

	t.Run("finds sh", func(t *testing.T) {
		if path := RequireBinary(t, "sh"); path == "" {
			t.Error("RequireBinary(sh) returned no path")
		}
	})
}
