package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: the file holds exactly the data, private to its owner, with
// no temporary file left; a failed write leaves the old file as it was.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	for _, data := range []string{"first\n", "second, longer\n"} {
		if err := Write(path, "", []byte(data)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != data {
			t.Fatalf("file holds %q (%v), want %q", b, err, data)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
	// A target that cannot be replaced (a directory): the error names it
	// and the temporary file is gone.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	os.WriteFile(filepath.Join(sub, "x"), nil, 0o600)
	if err := Write(sub, dir, []byte("x")); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries after a failed write, want 2 (the file and the directory)", len(entries))
	}
}
