package maildir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSubscriptionsRead(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{
			name:    "v1 with Maildir++ separator",
			file:    subscriptionsFile,
			content: "INBOX\nSent\nArchive.2024.Q1\nEntw&APw-rfe\nQ&-A\nTrash.\n",
			want:    []string{"INBOX", "Sent", "Archive.2024.Q1", "Entwürfe", "Q&A", "Trash"},
		},
		{
			name:    "v2 with TAB levels",
			file:    subscriptionsFile,
			content: "V\t2\n\nINBOX\nArchive\t2024\tQ1\nEntw&APw-rfe\nQ&-A\nTab\x01tInside\n",
			want:    []string{"INBOX", "Archive.2024.Q1", "Entwürfe", "Q&A", "Tab\tInside"},
		},
		{
			name:    "UTF-8 names and invalid modified UTF-7 taken as written",
			file:    subscriptionsFile,
			content: "V\t2\n\nEntwürfe\nQ&A\nbad\xff\n",
			want:    []string{"Entwürfe", "Q&A"},
		},
		{
			name:    "CRLF, blank lines and repeats",
			file:    subscriptionsFile,
			content: "inbox\r\n\r\nSent\r\nSent\r\n",
			want:    []string{"INBOX", "Sent"},
		},
		{
			name:    "Courier",
			file:    courierSubscriptionsFile,
			content: "INBOX\nINBOX.Sent\nINBOX.Entw&APw-rfe.Alt\n",
			want:    []string{"INBOX", "Sent", "Entwürfe.Alt"},
		},
		{
			name:    "none",
			file:    "unrelated",
			content: "Sent\n",
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			s, err := Create(root)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := s.Subscriptions()
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Subscriptions() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSetSubscriptions(t *testing.T) {
	root := t.TempDir()
	s, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"inbox", "Sent", "Archive.2024.Q1", "Entwürfe", "Q&A", "日本語"}
	if err := s.SetSubscriptions(names); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, subscriptionsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "V\t2\n\nINBOX\nSent\nArchive\t2024\tQ1\nEntw&APw-rfe\nQ&-A\n&ZeVnLIqe-\n"
	if string(data) != want {
		t.Errorf("subscriptions file = %q, want %q", data, want)
	}
	got, err := s.Subscriptions()
	wantNames := append([]string{"INBOX"}, names[1:]...)
	if err != nil || !slices.Equal(got, wantNames) {
		t.Errorf("read back %q, %v; want %q", got, err, wantNames)
	}
	for _, n := range []string{"Sent", "Q&A"} {
		if _, err := s.CreateFolder(folderOf(n)); err != nil {
			t.Fatal(err)
		}
	}
	folders, err := s.Folders()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		if !f.Subscribed {
			t.Errorf("%q not subscribed", f.Name)
		}
	}
	if err := s.SetSubscriptions([]string{"bad\xff"}); err == nil {
		t.Error("SetSubscriptions took a name that is not UTF-8")
	}
}
