package demo

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

func TestDemoRunsEndToEnd(t *testing.T) {
	res, err := Run(context.Background(), io.Discard, filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Seeded < 20 || res.Export.Messages != res.Seeded || res.Import.Appended != res.Seeded || !res.Verify.OK() {
		t.Errorf("seeded %d, exported %d, imported %d, verified %v", res.Seeded, res.Export.Messages, res.Import.Appended, res.Verify.OK())
	}
}
