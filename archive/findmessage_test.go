package archive

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/mailferry/mailferry/format"
)

// TestFindMessage looks messages up by folder and UID, and by POP3 UIDL,
// in a snapshot whose folders hold the same UIDs.
func TestFindMessage(t *testing.T) {
	a, idx := newTestArchive(t)
	w, err := a.NewWriter(idx, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.NewSnapshot(format.Snapshot{Account: "u@h", Source: format.Source{Kind: format.SourceIMAP, Endpoint: "imap://u@h"},
		Started: time.Unix(1000, 0), Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]format.ID{}
	for n, f := range []string{"INBOX", "Archive", "Empty"} {
		if err := sw.Folder(format.Folder{Name: f, Delimiter: "/"}); err != nil {
			t.Fatal(err)
		}
		if f == "Empty" {
			continue
		}
		for uid := range uint32(2) {
			id, size, err := w.Put(bytes.NewReader(testMessage(uint64(10*n)+uint64(uid), "Subject: "+f, 100)))
			if err != nil {
				t.Fatal(err)
			}
			uidl := f + string(rune('a'+uid))
			ids[uidl] = id
			if err := sw.Message(format.Message{Folder: f, UID: uid + 1, UIDL: uidl, ID: id, Size: size, InternalDate: time.Unix(1e9, 0)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	snap, err := sw.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		key     MessageKey
		want    string // key of ids
		wantErr error
	}{
		{MessageKey{Folder: "INBOX", UID: 1}, "INBOXa", nil},
		{MessageKey{Folder: "Archive", UID: 2}, "Archiveb", nil},
		{MessageKey{Folder: "Archive", UIDL: "Archivea"}, "Archivea", nil},
		{MessageKey{UIDL: "INBOXb"}, "INBOXb", nil},
		{MessageKey{Folder: "INBOX", UID: 3}, "", ErrNoMessage},
		{MessageKey{Folder: "Empty", UID: 1}, "", ErrNoMessage},
		{MessageKey{Folder: "INBOX", UIDL: "Archivea"}, "", ErrNoMessage},
		{MessageKey{UIDL: "zz"}, "", ErrNoMessage},
		{MessageKey{Folder: "inbox", UID: 1}, "", ErrNoFolder},
	} {
		m, err := a.FindMessage(snap, tc.key)
		if !errors.Is(err, tc.wantErr) || m.ID != ids[tc.want] {
			t.Errorf("%+v: %s, %v; want %s, %v", tc.key, m.ID.Short(), err, ids[tc.want].Short(), tc.wantErr)
		}
	}
}
