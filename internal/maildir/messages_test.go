package maildir

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

func TestMessagesOrderAndRenames(t *testing.T) {
	root := t.TempDir()
	s, err := Create(root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"new/1700000003.M1P1Q1.host":               "third",
		"cur/1700000001.M1P1Q1.host,S=5:2,S":       "first",
		"cur/1700000002.M1P1Q1.host:2,":            "second",
		"new/1700000004.M1P1Q1.host:2,S":           "fourth", // new/ carries no flags
		"cur/.hidden":                              "not mail",
		"cur/1700000005.M1P1Q1.host:2,F":           "fifth, renamed while listing",
		"cur/1700000006.M1P1Q1.host:2,T":           "sixth, expunged while listing",
		"cur/1700000007.M1P1Q1.mail\\072host:2,RS": "seventh",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var flags []format.Flags
	err = s.Messages("INBOX", func(m Message, r io.Reader) error {
		data, err := io.ReadAll(r)
		got = append(got, string(data))
		flags = append(flags, m.Flags)
		if len(got) == 4 {
			// A client changes flags of one message and expunges another.
			os.Rename(filepath.Join(root, "cur/1700000005.M1P1Q1.host:2,F"), filepath.Join(root, "cur/1700000005.M1P1Q1.host:2,FS"))
			os.Remove(filepath.Join(root, "cur/1700000006.M1P1Q1.host:2,T"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first", "second", "third", "fourth", "fifth, renamed while listing", "seventh"}
	if !slices.Equal(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	wantFlags := []format.Flags{{format.FlagSeen}, {}, {}, {}, {format.FlagFlagged, format.FlagSeen}, {format.FlagAnswered, format.FlagSeen}}
	for i := range wantFlags {
		if i < len(flags) && !slices.Equal(flags[i], format.NormalizeFlags(wantFlags[i])) {
			t.Errorf("message %d: flags %q, want %q", i, flags[i], wantFlags[i])
		}
	}

	stop := errors.New("stop")
	if err := s.Messages("INBOX", func(Message, io.Reader) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Messages returned %v, want fn's error", err)
	}
	if err := s.Messages("Missing", func(Message, io.Reader) error { return nil }); err == nil {
		t.Error("Messages of a missing folder did not fail")
	}
	if _, err := s.Deliver("Missing", nil, time.Now(), nil); err == nil {
		t.Error("Deliver to a missing folder did not fail")
	}
}
