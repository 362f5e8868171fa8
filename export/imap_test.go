package export

import (
	"context"
	"testing"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

func exportOnce(t *testing.T, dir string, opts IMAPOptions) *Report {
	t.Helper()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := IMAP(context.Background(), a, opts)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if !rep.Complete() {
		t.Fatalf("export incomplete: %+v", rep.Failures)
	}
	return rep
}

func TestIMAPExportFidelity(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 2000, 20<<20)
	c := d.Login(t, testUser)
	_, before := readServer(t, c)

	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	dir := t.TempDir()
	rep := exportOnce(t, dir, IMAPOptions{Options: Options{Account: "alice@127.0.0.1"}, Endpoint: endpoint, Dial: dial, Connections: 3})
	if rep.NewMessages == 0 || rep.Messages != len(before) {
		t.Errorf("report: %d messages (%d new), server has %d", rep.Messages, rep.NewMessages, len(before))
	}

	// The source is unchanged: no \Seen set by the export, nothing moved.
	serverFolders, after := readServer(t, c)
	sameMessages(t, "server after export", before, after)

	// The archive holds every message byte for byte, with flags and dates.
	_, folders, got := readArchive(t, dir, "alice@127.0.0.1")
	sameMessages(t, "archive", before, got)

	// Folder metadata: delimiter, attributes, special use, subscriptions,
	// UIDVALIDITY; names decoded from modified UTF-7.
	for name, sf := range serverFolders {
		af, ok := folders[name]
		if !ok {
			t.Errorf("folder %q missing from the snapshot", name)
			continue
		}
		if af.Delimiter != "/" || af.Subscribed != sf.Subscribed || af.SpecialUse != sf.SpecialUse || af.UIDValidity != sf.UIDValidity {
			t.Errorf("folder %q: archive %+v, server %+v", name, af, sf)
		}
	}
	checks := []struct {
		name string
		ok   func(format.Folder) bool
	}{
		{"Entwürfe", func(f format.Folder) bool { return f.Subscribed }},
		{"Q&A", func(f format.Folder) bool { return f.UIDNext > 1 }},
		{"Unsubscribed", func(f format.Folder) bool { return !f.Subscribed }},
		{"Sent", func(f format.Folder) bool { return f.SpecialUse == `\Sent` }},
		{"Archive/2024", func(f format.Folder) bool { return f.HasAttribute(`\Noselect`) }},
		{"Öffentliche Ordner", func(f format.Folder) bool { return f.HasAttribute(`\Noselect`) }},
	}
	for _, c := range checks {
		if f, ok := folders[c.name]; !ok || !c.ok(f) {
			t.Errorf("folder %q: %+v (present %v)", c.name, f, ok)
		}
	}
}
