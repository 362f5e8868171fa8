package maildir

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/format"
)

func TestFolderName(t *testing.T) {
	tests := []struct {
		folder  format.Folder
		name    string
		dir     string
		wantErr bool
	}{
		{format.Folder{Name: "INBOX", Delimiter: "/"}, "INBOX", "", false},
		{format.Folder{Name: "inbox", Delimiter: "."}, "INBOX", "", false},
		{format.Folder{Name: "Sent", Delimiter: "/"}, "Sent", ".Sent", false},
		{format.Folder{Name: "Q&A", Delimiter: "/"}, "Q&A", ".Q&-A", false},
		{format.Folder{Name: "Entwürfe", Delimiter: "/"}, "Entwürfe", ".Entw&APw-rfe", false},
		{format.Folder{Name: "Archive/2024/Q1", Delimiter: "/"}, "Archive.2024.Q1", ".Archive.2024.Q1", false},
		{format.Folder{Name: "Archive.2024", Delimiter: "."}, "Archive.2024", ".Archive.2024", false},
		{format.Folder{Name: "INBOX/Sub", Delimiter: "/"}, "INBOX.Sub", ".INBOX.Sub", false},
		{format.Folder{Name: "Trailing ", Delimiter: "/"}, "Trailing ", ".Trailing ", false},
		{format.Folder{Name: "日本語/😀", Delimiter: "/"}, "日本語.😀", ".&ZeVnLIqe-.&2D3eAA-", false},
		{format.Folder{Name: "v1.2/notes", Delimiter: "/"}, "", "", true},
		{format.Folder{Name: "dot.name", Delimiter: ""}, "", "", true},
		{format.Folder{Name: "a//b", Delimiter: "/"}, "", "", true},
		{format.Folder{Name: "a.", Delimiter: "."}, "", "", true},
		{format.Folder{Name: "a/b", Delimiter: "."}, "", "", true},
		{format.Folder{Name: "bad\xff", Delimiter: "/"}, "", "", true},
	}
	for _, tt := range tests {
		name, err := FolderName(tt.folder)
		if tt.wantErr {
			if !errors.Is(err, ErrFolderName) {
				t.Errorf("FolderName(%q, %q) = %q, %v; want ErrFolderName", tt.folder.Name, tt.folder.Delimiter, name, err)
			}
			continue
		}
		if err != nil || name != tt.name {
			t.Errorf("FolderName(%q, %q) = %q, %v; want %q", tt.folder.Name, tt.folder.Delimiter, name, err, tt.name)
			continue
		}
		dir, err := folderDir(name)
		if err != nil || dir != tt.dir {
			t.Errorf("folderDir(%q) = %q, %v; want %q", name, dir, err, tt.dir)
		}
		if dir != "" {
			back, err := dirFolder(dir)
			if err != nil || back != name {
				t.Errorf("dirFolder(%q) = %q, %v; want %q", dir, back, err, name)
			}
		}
	}
}

func TestFolders(t *testing.T) {
	root := t.TempDir()
	s, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Sent", "Q&A", "Entwürfe", "Archive/2024/Q1", "Archive/2023", "Öffentliche Ordner/Team", "Noselect/Child"} {
		if _, err := s.CreateFolder(format.Folder{Name: n, Delimiter: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	// A folder created with \Noselect stays implicit.
	if name, err := s.CreateFolder(format.Folder{Name: "Noselect", Delimiter: "/", Attributes: []string{`\Noselect`}}); err != nil || name != "Noselect" {
		t.Fatalf("CreateFolder(\\Noselect) = %q, %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(root, ".Noselect")); !os.IsNotExist(err) {
		t.Errorf(".Noselect exists: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".Sent", subfolderMarker)); err != nil {
		t.Errorf("no maildirfolder in .Sent: %v", err)
	}
	// Not folders: a file, a dot directory without cur/ and new/.
	os.WriteFile(filepath.Join(root, ".notafolder"), nil, 0o600)
	os.MkdirAll(filepath.Join(root, ".notmuch", "xapian"), 0o700)
	// A Courier folder without Dovecot's maildirfolder file, with new/ only.
	os.MkdirAll(filepath.Join(root, ".Courier", "new"), 0o700)

	got, err := s.Folders()
	if err != nil {
		t.Fatal(err)
	}
	type folder struct {
		name  string
		attrs string
	}
	var gotList []folder
	for _, f := range got {
		if f.Delimiter != "." {
			t.Errorf("%q: delimiter %q", f.Name, f.Delimiter)
		}
		gotList = append(gotList, folder{f.Name, strings.Join(f.Attributes, " ")})
	}
	want := []folder{
		{"INBOX", `\HasNoChildren`},
		{"Archive", `\Noselect \HasChildren`},
		{"Archive.2023", `\HasNoChildren`},
		{"Archive.2024", `\Noselect \HasChildren`},
		{"Archive.2024.Q1", `\HasNoChildren`},
		{"Courier", `\HasNoChildren`},
		{"Entwürfe", `\HasNoChildren`},
		{"Noselect", `\Noselect \HasChildren`},
		{"Noselect.Child", `\HasNoChildren`},
		{"Q&A", `\HasNoChildren`},
		{"Sent", `\HasNoChildren`},
		{"Öffentliche Ordner", `\Noselect \HasChildren`},
		{"Öffentliche Ordner.Team", `\HasNoChildren`},
	}
	if !reflect.DeepEqual(gotList, want) {
		t.Errorf("Folders:\n got %q\nwant %q", gotList, want)
	}
	if err := s.Messages("Courier", func(Message, io.Reader) error { return nil }); err != nil {
		t.Errorf("Messages of a folder without cur/: %v", err)
	}
}

func TestFoldersBadName(t *testing.T) {
	for _, dir := range []string{".Entwürfe", ".Q&A", ".a..b", ".&AGE-", ".INBOX"} {
		root := t.TempDir()
		s, err := Create(root)
		if err != nil {
			t.Fatal(err)
		}
		if err := makeMaildir(filepath.Join(root, dir)); err != nil {
			t.Fatal(err)
		}
		_, err = s.Folders()
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("Folders with directory %q: %v, want an error naming it", dir, err)
		}
	}
}

// TestTestdata reads the checked-in tree the README's demo uses.
func TestTestdata(t *testing.T) {
	s, err := Open("../../testdata/maildir")
	if err != nil {
		t.Fatal(err)
	}
	folders, err := s.Folders()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		n          int
		subscribed bool
		noselect   bool
	}{
		"INBOX":           {12, true, false},
		"Sent":            {1, true, false},
		"Entwürfe":        {2, true, false},
		"Archive":         {0, false, true},
		"Archive.2024":    {0, false, true},
		"Archive.2024.Q1": {5, true, false},
		"Q&A":             {3, true, false},
		"Trailing ":       {2, false, false},
	}
	if len(folders) != len(want) {
		t.Errorf("%d folders, want %d: %v", len(folders), len(want), folders)
	}
	total, keywords := 0, 0
	for _, f := range folders {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected folder %q", f.Name)
			continue
		}
		if f.Subscribed != w.subscribed || f.HasAttribute(`\Noselect`) != w.noselect {
			t.Errorf("%q: subscribed %v noselect %v, want %v %v", f.Name, f.Subscribed, f.HasAttribute(`\Noselect`), w.subscribed, w.noselect)
		}
		if w.noselect {
			continue
		}
		n := 0
		err := s.Messages(f.Name, func(m Message, r io.Reader) error {
			n++
			keywords += len(m.Flags.Keywords())
			data, err := io.ReadAll(r)
			if err == nil && int64(len(data)) != m.Size {
				t.Errorf("%s: read %d bytes, size %d", m.Path, len(data), m.Size)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != w.n {
			t.Errorf("%q: %d messages, want %d", f.Name, n, w.n)
		}
		total += n
	}
	// Five custom keywords and one P ($Forwarded).
	if total != 25 || keywords != 6 {
		t.Errorf("%d messages with %d keywords, want 25 with 6", total, keywords)
	}
}

func folderOf(name string) format.Folder { return format.Folder{Name: name, Delimiter: Delimiter} }
