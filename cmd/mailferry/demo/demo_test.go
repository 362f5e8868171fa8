package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

func TestDemoRunsEndToEnd(t *testing.T) {
	// The demo's servers are well behaved, so any warning is the demo's
	// fault. slog's handlers lock around each write; Run is over before
	// the buffer is read.
	var warnings bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(old) })

	res, err := Run(context.Background(), io.Discard, filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Seeded < 20 || res.Export.Messages != res.Seeded || res.Import.Appended != res.Seeded || !res.Verify.OK() {
		t.Errorf("seeded %d, exported %d, imported %d, verified %v", res.Seeded, res.Export.Messages, res.Import.Appended, res.Verify.OK())
	}
	if len(res.Export.Warnings) > 0 {
		t.Errorf("export warnings: %q", res.Export.Warnings)
	}
	if warnings.Len() > 0 {
		t.Errorf("the demo logged:\n%s", warnings.String())
	}
}
