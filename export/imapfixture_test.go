package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"
)

const (
	testUser     = "alice"
	testPassword = "s3cret-Pa55"
)

// crlf turns bare LF line ends into CRLF: Dovecot serves CRLF whatever it
// was given, and the tests compare what it serves.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

func corpusMessages(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob("../testdata/corpus/*.eml")
	if len(files) < 15 {
		t.Fatalf("testdata/corpus has %d messages", len(files))
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, crlf(b))
	}
	return out
}

// generated returns message i of a mailbox, a few KB of text.
func generated(i int, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: sender%d@example.net\r\nTo: alice@example.org\r\nSubject: message %d\r\nMessage-ID: <%d@example.net>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n", i%37, i, i)
	for b.Len() < size {
		fmt.Fprintf(&b, "line %d of message %d: %x\r\n", b.Len(), i, r.Uint64())
	}
	return b.Bytes()
}

var zones = []*time.Location{
	time.FixedZone("", 5*3600+1800), time.FixedZone("", -8*3600), time.UTC, time.FixedZone("", 14*3600),
}

// seedAccount fills testUser's account: nested folders with \Noselect
// parents, names with & and non-ASCII letters, special-use and unsubscribed
// folders, custom keywords, dates in several zones, bulk messages and one
// large message.
func seedAccount(t *testing.T, d *testserver.Dovecot, bulk, bigSize int) {
	t.Helper()
	folders := []struct {
		name      string
		subscribe bool
	}{
		{"Sent", true}, {"Drafts", true}, {"Archive/2024/Q1", true}, {"Q&A", true},
		{"Entwürfe", true}, {"Öffentliche Ordner/Projekte", false}, {"Unsubscribed", false},
	}
	for _, f := range folders {
		d.CreateFolder(t, testUser, f.name, f.subscribe)
	}
	flagSets := [][]imap.Flag{nil, {imap.FlagSeen}, {imap.FlagSeen, imap.FlagAnswered, "$label1"},
		{imap.FlagFlagged, "Project-X"}, {imap.FlagDraft}, {imap.FlagSeen, imap.FlagDeleted, "custom_kw", "$label1"}}
	corpus := corpusMessages(t)
	targets := []string{"INBOX", "Sent", "Drafts", "Archive/2024/Q1", "Q&A", "Entwürfe", "Öffentliche Ordner/Projekte", "Unsubscribed"}
	byFolder := map[string][]testserver.Message{}
	for i, m := range corpus {
		f := targets[i%len(targets)]
		byFolder[f] = append(byFolder[f], testserver.Message{Body: m, Flags: flagSets[i%len(flagSets)],
			Date: time.Date(2020, 3, 1+i, 9, i, 30, 0, zones[i%len(zones)])})
	}
	// The same message in two folders is two records.
	byFolder["Q&A"] = append(byFolder["Q&A"], byFolder["INBOX"][0])
	for i := range bulk {
		byFolder["INBOX"] = append(byFolder["INBOX"], testserver.Message{Body: generated(i, 1500+i%5000),
			Flags: flagSets[i%len(flagSets)], Date: time.Date(2023, 1, 1, 0, 0, i, 0, zones[i%len(zones)])})
	}
	if bigSize > 0 {
		byFolder["Archive/2024/Q1"] = append(byFolder["Archive/2024/Q1"], testserver.Message{Body: generated(-1, bigSize),
			Flags: []imap.Flag{imap.FlagSeen}, Date: time.Date(2024, 2, 29, 23, 59, 59, 0, zones[3])})
	}
	for f, msgs := range byFolder {
		for start := 0; start < len(msgs); start += 500 {
			d.Append(t, testUser, f, msgs[start:min(start+500, len(msgs))]...)
		}
	}
}

func startDovecot(t *testing.T) *testserver.Dovecot {
	return testserver.StartDovecot(t, testserver.Options{
		Users:      []testserver.User{{Name: testUser, Password: testPassword}, {Name: "bob", Password: "bob-pw"}},
		SpecialUse: testserver.SpecialUseDeclared,
	})
}

// dialer returns a Dial function for user on addr (through a proxy in
// some tests), with the password from the environment.
func dialer(t *testing.T, d *testserver.Dovecot, addr, user, password string) (func(context.Context) (*imapclient.Client, error), string) {
	t.Helper()
	env := "MAILFERRY_TEST_PW_" + strings.ToUpper(user)
	t.Setenv(env, password)
	ep, err := mailconn.ParseEndpoint("imap://" + user + "@" + addr)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: env}, TLS: mailconn.TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	return dl.Dial, ep.String()
}

// sourceMessage is a message as the server holds it or the archive has it.
type sourceMessage struct {
	folder string
	uid    uint32
	sum    format.ID
	flags  string
	date   time.Time
}

func (m sourceMessage) String() string {
	_, off := m.date.Zone()
	return fmt.Sprintf("%s/%d %s [%s] %s (%+d)", m.folder, m.uid, m.sum.Short(), m.flags, m.date.Format(time.RFC3339), off)
}

// readServer reads every message of the account over IMAP with BODY.PEEK[].
func readServer(t *testing.T, c *imapclient.Client) (map[string]format.Folder, []sourceMessage) {
	t.Helper()
	list, extended, err := listPattern(c, "*")
	if err != nil {
		t.Fatal(err)
	}
	folders := foldersOf(list, extended)
	byName := map[string]format.Folder{}
	var out []sourceMessage
	for _, f := range folders {
		byName[f.Name] = f
		if f.HasAttribute(`\Noselect`) || f.HasAttribute(`\NonExistent`) {
			continue
		}
		sel, err := c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		f.UIDValidity = sel.UIDValidity
		byName[f.Name] = f
		if sel.NumMessages == 0 {
			continue
		}
		cmd := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := msg.Collect()
			if err != nil {
				t.Fatal(err)
			}
			var flags []string
			for _, fl := range buf.Flags {
				flags = append(flags, string(fl))
			}
			out = append(out, sourceMessage{f.Name, uint32(buf.UID), format.Sum(buf.FindBodySection(&imap.FetchItemBodySection{})),
				strings.Join(format.NormalizeFlags(flags), " "), buf.InternalDate})
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return byName, out
}

// readArchive reads the account's latest snapshot and checks each message's
// bytes against its id.
func readArchive(t *testing.T, dir, account string) (archive.SnapshotInfo, map[string]format.Folder, []sourceMessage) {
	t.Helper()
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _, err := a.Snapshots()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	r, _ := a.NewReader(idx)
	defer r.Close()
	folders := map[string]format.Folder{}
	var out []sourceMessage
	err = a.ReadSnapshot(snap.ID, func(rec format.SnapshotRecord) error {
		if f := rec.Folder; f != nil {
			folders[f.Name] = *f
			return nil
		}
		m := rec.Message
		rc, _, err := r.Open(m.ID)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		out = append(out, sourceMessage{m.Folder, m.UID, format.Sum(b), strings.Join(m.Flags, " "), m.InternalDate})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap, folders, out
}

// sameMessages compares message lists exactly: bytes, flags, and internal
// dates with their zone offsets.
func sameMessages(t *testing.T, what string, want, got []sourceMessage) {
	t.Helper()
	ws, gs := make([]string, len(want)), make([]string, len(got))
	for i, m := range want {
		ws[i] = m.String()
	}
	for i, m := range got {
		gs[i] = m.String()
	}
	slices.Sort(ws)
	slices.Sort(gs)
	if !slices.Equal(ws, gs) {
		var diff []string
		for _, w := range ws {
			if !slices.Contains(gs, w) {
				diff = append(diff, "missing "+w)
			}
		}
		for _, g := range gs {
			if !slices.Contains(ws, g) {
				diff = append(diff, "extra   "+g)
			}
		}
		if len(diff) > 20 {
			diff = append(diff[:20], fmt.Sprintf("... %d more", len(diff)-20))
		}
		t.Errorf("%s: %d messages, want %d:\n%s", what, len(got), len(want), strings.Join(diff, "\n"))
	}
}
