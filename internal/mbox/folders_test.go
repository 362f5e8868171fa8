package mbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFoldersTree(t *testing.T) {
	const msg = "From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n\n"
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"Inbox":                   msg,
		"Inbox.msf":               "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n",
		"Inbox.sbd/Family":        msg,
		"Sent":                    "\n\n" + msg,
		"Trash":                   "",
		"Archive.sbd/2023":        msg,
		"Archive.sbd/2023.sbd/Q4": msg,
		"Archive.sbd/2023.lock":   "",
		"Lists/go-nuts":           msg, // a plain directory is a level too
		".DS_Store":               "junk",
		"filterlog.html":          "<html></html>\n",
		"popstate.dat":            "# POP3 State File\n",
	})
	folders, skipped, err := Folders(root)
	if err != nil {
		t.Fatal(err)
	}
	type folder struct {
		name, attrs string
		file        bool
		subscribed  bool
	}
	var got []folder
	for _, f := range folders {
		if f.Folder.Delimiter != "/" {
			t.Errorf("%q: delimiter %q", f.Folder.Name, f.Folder.Delimiter)
		}
		got = append(got, folder{f.Folder.Name, strings.Join(f.Folder.Attributes, " "), f.Path != "", f.Folder.Subscribed})
	}
	want := []folder{
		{"INBOX", `\HasChildren`, true, true},
		{"INBOX/Family", `\HasNoChildren`, true, true},
		{"Archive", `\Noselect \HasChildren`, false, false},
		{"Archive/2023", `\HasChildren`, true, true},
		{"Archive/2023/Q4", `\HasNoChildren`, true, true},
		{"Lists", `\Noselect \HasChildren`, false, false},
		{"Lists/go-nuts", `\HasNoChildren`, true, true},
		{"Sent", `\HasNoChildren`, true, true},
		{"Trash", `\HasNoChildren`, true, true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Folders:\n got %v\nwant %v", got, want)
	}
	wantSkipped := []string{filepath.Join(root, "filterlog.html"), filepath.Join(root, "popstate.dat")}
	if !slices.Equal(skipped, wantSkipped) {
		t.Errorf("skipped %q, want %q", skipped, wantSkipped)
	}

	// A plain directory and a .sbd directory holding the same folder.
	writeFiles(t, root, map[string]string{"Archive/2023": msg})
	if _, _, err := Folders(root); err == nil || !strings.Contains(err.Error(), "2023") {
		t.Errorf("two files for Archive/2023: %v", err)
	}
}

func TestFoldersSingleFile(t *testing.T) {
	root := t.TempDir()
	const msg = "From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n\n"
	writeFiles(t, root, map[string]string{"inbox": msg, "Saved.mbox": msg, "mbox": msg, "empty": "", "notes.txt": "hello\n"})
	for file, name := range map[string]string{"inbox": "INBOX", "Saved.mbox": "Saved", "mbox": "mbox", "empty": "empty"} {
		folders, _, err := Folders(filepath.Join(root, file))
		if err != nil || len(folders) != 1 || folders[0].Folder.Name != name || folders[0].Path != filepath.Join(root, file) {
			t.Errorf("Folders(%q) = %v, %v; want one folder %q", file, folders, err, name)
		}
	}
	if _, _, err := Folders(filepath.Join(root, "notes.txt")); !errors.Is(err, ErrNotMbox) {
		t.Errorf("Folders(notes.txt) = %v, want ErrNotMbox", err)
	}
}

// TestDirRoundTrip writes folders through Dir and reads them with Folders.
func TestDirRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mail")
	d, err := CreateDir(root)
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	write := func(f format.Folder, bodies ...string) {
		fw, err := d.Append(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if err := fw.Write(Message{FromLineDate: date, Flags: format.Flags{format.FlagSeen}}, strings.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write(format.Folder{Name: "inbox", Delimiter: "."}, "Subject: 1\n\none\n")
	write(format.Folder{Name: "Archive/2024/Q1", Delimiter: "/"}, "Subject: 2\n\ntwo\n")
	write(format.Folder{Name: "Entwürfe", Delimiter: "/"})
	write(format.Folder{Name: "INBOX", Delimiter: "/"}, "Subject: 3\n\nthree") // appended
	for _, bad := range []string{".hidden", "a/.b", "x.sbd", "a//b", "idx.msf", "../up"} {
		if _, err := d.Path(format.Folder{Name: bad, Delimiter: "/"}); !errors.Is(err, ErrFolderName) {
			t.Errorf("Path(%q) = %v, want ErrFolderName", bad, err)
		}
	}

	for _, p := range []string{"INBOX", "Archive", "Archive.sbd/2024", "Archive.sbd/2024.sbd/Q1", "Entwürfe"} {
		if fi, err := os.Stat(filepath.Join(root, p)); err != nil || fi.IsDir() {
			t.Errorf("file %s: %v", p, err)
		}
	}
	folders, skipped, err := Folders(root)
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	var names []string
	for _, f := range folders {
		names = append(names, f.Folder.Name)
	}
	wantNames := []string{"INBOX", "Archive", "Archive/2024", "Archive/2024/Q1", "Entwürfe"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("folders %q, want %q", names, wantNames)
	}
	data, err := os.ReadFile(filepath.Join(root, "INBOX"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(data))
	for _, want := range []string{"Subject: 1\n\none\n", "Subject: 3\n\nthree\n"} {
		_, body, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(body)
		if string(got) != want {
			t.Errorf("INBOX message %q, want %q", got, want)
		}
	}
}

// TestAppendEndLine appends to mbox files left by other programs.
func TestAppendEndLine(t *testing.T) {
	const head = "From a@b Mon Jan  1 00:00:00 2024\nSubject: old\n\n"
	tests := []struct {
		file, lastBody string
	}{
		{head + "body\n\n", "body\n"},
		{head + "body\n", "body\n"},
		{head + "body", "body\n"},
		{head + "body\r\n\r\n", "body\r\n"},
		{head + "body\n\n\n", "body\n\n"},
		{"", ""},
	}
	for _, tt := range tests {
		root := t.TempDir()
		writeFiles(t, root, map[string]string{"INBOX": tt.file})
		d, _ := CreateDir(root)
		fw, err := d.Append(format.Folder{Name: "INBOX"})
		if err != nil {
			t.Fatal(err)
		}
		if err := fw.Write(Message{FromLineDate: time.Now()}, strings.NewReader("Subject: new\n\nnew\n")); err != nil {
			t.Fatal(err)
		}
		fw.Close()
		data, _ := os.ReadFile(filepath.Join(root, "INBOX"))
		r := NewReader(bytes.NewReader(data))
		var bodies []string
		for {
			_, body, err := r.Next()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(body)
			_, after, _ := strings.Cut(string(b), "\n\n")
			if i := strings.Index(string(b), "\r\n\r\n"); i >= 0 {
				after = string(b)[i+4:]
			}
			bodies = append(bodies, after)
		}
		want := []string{"new\n"}
		if tt.file != "" {
			want = []string{tt.lastBody, "new\n"}
		}
		if !slices.Equal(bodies, want) {
			t.Errorf("file %q: bodies %q, want %q", tt.file, bodies, want)
		}
	}
}

// TestTestdata reads the checked-in mbox tree: its messages are corpus
// messages plus mbox headers.
func TestTestdata(t *testing.T) {
	folders, skipped, err := Folders("../../testdata/mbox")
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	want := map[string][]struct {
		file  string
		flags format.Flags
	}{
		"INBOX": {
			{"01-plain-crlf.eml", format.Flags{format.FlagAnswered, format.FlagSeen}},
			{"02-bare-lf.eml", format.Flags{"$label1", format.FlagSeen}},
			{"03-latin1-8bit.eml", format.Flags{format.FlagFlagged}},
			{"09-from-lines.eml", format.Flags{format.FlagSeen}},
			{"14-no-final-newline.eml", format.Flags{}},
		},
		"Sent":         {{"17-sent-reply.eml", format.Flags{format.FlagSeen}}},
		"Archive":      {},
		"Archive/2023": {{"12-folded-encoded.eml", format.Flags{"$label1", "Project-X", format.FlagSeen}}, {"15-forwarded-rfc822.eml", format.Flags{format.FlagDeleted, format.FlagSeen}}},
	}
	if len(folders) != len(want) {
		t.Errorf("%d folders, want %d", len(folders), len(want))
	}
	for _, f := range folders {
		msgs, ok := want[f.Folder.Name]
		if !ok {
			t.Errorf("unexpected folder %q", f.Folder.Name)
			continue
		}
		fh, err := os.Open(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(fh)
		for i := 0; ; i++ {
			m, body, err := r.Next()
			if err == io.EOF {
				if i != len(msgs) {
					t.Errorf("%q: %d messages, want %d", f.Folder.Name, i, len(msgs))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(body)
			if i >= len(msgs) {
				continue
			}
			orig, err := os.ReadFile(filepath.Join(corpusDir, msgs[i].file))
			if err != nil {
				t.Fatal(err)
			}
			// Thunderbird's headers stay in the message.
			got = bytes.Replace(got, []byte("X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n"), nil, 1)
			if !bytes.Equal(got, withNewline(orig)) {
				t.Errorf("%q message %d differs from %s:\n%s", f.Folder.Name, i, msgs[i].file, firstDiff(got, withNewline(orig)))
			}
			if !slices.Equal(m.Flags, format.NormalizeFlags(msgs[i].flags)) || m.DateErr != nil {
				t.Errorf("%q message %d: flags %q (date error %v), want %q", f.Folder.Name, i, m.Flags, m.DateErr, msgs[i].flags)
			}
		}
		fh.Close()
	}
}
