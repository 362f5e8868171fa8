package export

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// TestIMAPInvalidFolderName serves folder names that are not valid
// modified UTF-7, which go-imap cannot decode (it fails the whole LIST and
// ends the connection), and names in raw 8-bit UTF-8, which it decodes
// but sends back encoded, so the fake server knows them not: each is
// listed again raw and exported under its name as the server sent it,
// marked raw_name, with its messages byte for byte; a name that cannot be
// recorded as sent is a failure naming it; nothing is retried as a lost
// connection; and folders go-imap opens cost no connection of the raw
// path (conns, counted with one reader, where not 0).
func TestIMAPInvalidFolderName(t *testing.T) {
	msgs := []fakeIMAPMessage{
		{uid: 1, date: `"05-Mar-2024 10:00:00 +0100"`, body: "Subject: a\r\n\r\na\r\n"},
		{uid: 4, date: `" 7-Nov-2023 23:59:01 -0500"`, body: "Subject: b\r\n\r\nb \"(\r\n)\r\n"},
	}
	long := strings.Repeat("x", 2000) + "&"
	for _, tc := range []struct {
		name     string
		folders  []string
		want     []string // folders in the snapshot
		raw      []string // those of them marked raw_name
		failures []string // their Folder fields
		conns    int      // connections opened, with one reader; 0: unchecked
		noRaw    bool     // the source has no DialRaw
	}{
		{"one bad beside its prefix", []string{"Bad", "Bad&Jjo!", "Sent", "Zeta"},
			[]string{"INBOX", "Bad", "Bad&Jjo!", "Sent", "Zeta"}, []string{"Bad&Jjo!"}, nil, 0, false},
		{"two bad", []string{"&Jjo!", "Q&-A", "Q&AAA"},
			[]string{"INBOX", "&Jjo!", "Q&A", "Q&AAA"}, []string{"&Jjo!", "Q&AAA"}, nil, 0, false},
		// go-imap takes an 8-bit name for UTF-8 (and then cannot open
		// it); listed raw, it is kept as sent, and sent as a literal.
		{"8-bit UTF-8 beside a bad one", []string{"Bad&Jjo!", "Entwürfe"},
			[]string{"INBOX", "Bad&Jjo!", "Entwürfe"}, []string{"Bad&Jjo!", "Entwürfe"}, nil, 0, false},
		{"reads like another's decoded name", []string{"Bad&-Jjo!", "Bad&Jjo!"},
			[]string{"INBOX", "Bad&Jjo!"}, nil, []string{`"Bad&Jjo!"`}, 0, false},
		{"not UTF-8", []string{"Bad\xff", "Sent"}, []string{"INBOX", "Sent"}, nil, []string{`"Bad\xff"`}, 0, false},
		{"too long", []string{long, "Sent"}, []string{"INBOX", "Sent"}, nil, []string{format.QuoteName(long)}, 0, false},
		{"none bad", []string{"Entw&APw-rfe"}, []string{"INBOX", "Entwürfe"}, nil, nil, 2, false},
		{"all ASCII", []string{"Archive", "Sent"}, []string{"INBOX", "Archive", "Sent"}, nil, nil, 2, false},
		// No bad name makes go-imap's LIST fail: the EXAMINE go-imap
		// sends encoded is refused, then one raw LIST finds the names
		// sent raw. Connections: the coordinator, the raw LIST, an
		// EXAMINE and a reader per 8-bit folder, the reader.
		{"8-bit UTF-8 alone", []string{"Entwürfe", "Sent"},
			[]string{"INBOX", "Entwürfe", "Sent"}, []string{"Entwürfe"}, nil, 5, false},
		{"8-bit UTF-8 beside modified UTF-7", []string{"Entwürfe", "Gel&APY-scht", "Ordner/Müll"},
			[]string{"INBOX", "Entwürfe", "Gelöscht", "Ordner/Müll"}, []string{"Entwürfe", "Ordner/Müll"}, nil, 7, false},
		// A raw 8-bit name beside its own modified UTF-7 form: go-imap
		// reads both alike; listed raw, the encoded one is exported and
		// the raw one is a failure naming it, never silently one folder.
		{"8-bit UTF-8 beside its encoded form", []string{"Entw&APw-rfe", "Entwürfe"},
			[]string{"INBOX", "Entwürfe"}, nil, []string{`"Entwürfe"`}, 0, false},
		{"8-bit UTF-8 without DialRaw", []string{"Entwürfe", "Sent"},
			[]string{"INBOX", "Sent"}, nil, []string{"Entwürfe"}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeIMAPServer(t, msgs, tc.folders...)
			src := srv.source(t)
			if tc.noRaw {
				src.(*imapSource).cfg.DialRaw = nil
			}
			opts := Options{Account: "u@fake"}
			if tc.conns > 0 {
				opts.Connections = 1
			}
			a, _ := archive.OpenOrCreate(t.TempDir())
			start := time.Now()
			rep, err := Run(context.Background(), a, src, opts)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("export took %v: bad names were retried", took)
			}
			var failed []string
			for _, f := range rep.Failures {
				failed = append(failed, f.Folder)
			}
			if !slices.Equal(failed, tc.failures) || rep.Messages != len(tc.want)*len(msgs) {
				t.Errorf("failures %q (want %q), warnings %q, %d messages", failed, tc.failures, rep.Warnings, rep.Messages)
			}
			var got, raw []string
			var exported []format.Message
			a.ReadSnapshot(rep.Snapshot, func(rec format.SnapshotRecord) error {
				if f := rec.Folder; f != nil {
					got = append(got, f.Name)
					if f.RawName {
						raw = append(raw, f.Name)
					}
				}
				if m := rec.Message; m != nil && slices.Contains(tc.raw, m.Folder) {
					exported = append(exported, *m)
				}
				return nil
			})
			if !slices.Equal(got, tc.want) || !slices.Equal(raw, tc.raw) {
				t.Errorf("snapshot folders %q, raw %q; want %q, raw %q", got, raw, tc.want, tc.raw)
			}
			if len(exported) != len(tc.raw)*len(msgs) {
				t.Fatalf("%d messages in raw-named folders, want %d", len(exported), len(tc.raw)*len(msgs))
			}
			checkFakeMessages(t, a, msgs, exported)
			if n := srv.connections(); tc.conns > 0 && n != tc.conns {
				t.Errorf("%d connections, want %d", n, tc.conns)
			}
		})
	}
}

// checkFakeMessages compares exported with what the fake server served
// under their UIDs: bytes, flags, internal date.
func checkFakeMessages(t *testing.T, a *archive.Archive, msgs []fakeIMAPMessage, exported []format.Message) {
	t.Helper()
	rd, _, err := a.OpenReader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for _, m := range exported {
		i := slices.IndexFunc(msgs, func(f fakeIMAPMessage) bool { return uint32(f.uid) == m.UID })
		if i < 0 {
			t.Fatalf("folder %q uid %d: not served", m.Folder, m.UID)
		}
		want := msgs[i]
		date, _ := time.Parse(`"_2-Jan-2006 15:04:05 -0700"`, want.date)
		body, _, err := rd.Open(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		if string(b) != want.body || m.UID != uint32(want.uid) || !slices.Equal(m.Flags, format.Flags{`\Seen`}) ||
			!m.InternalDate.Equal(date) || m.InternalDate.Format("-0700") != date.Format("-0700") || m.DateSource != "" {
			t.Errorf("folder %q uid %d: %q, flags %v, date %v (%q); want %q, uid %d, date %v", m.Folder, m.UID, b, m.Flags, m.InternalDate, m.DateSource, want.body, want.uid, date)
		}
	}
}
