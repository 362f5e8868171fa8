package importer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"
)

func testMessage(i, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 5))
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: s%d@example.net\r\nTo: u@example.org\r\nSubject: m %d\r\nMessage-ID: <%d@example.net>\r\n\r\n", i%7, i, i)
	for b.Len() < size {
		fmt.Fprintf(&b, "%x %x\r\n", r.Uint64(), r.Uint64())
	}
	return b.Bytes()
}

// seed fills a source account: nested folders, non-ASCII and & names,
// keywords, dates in several zones, and two identical messages in a folder.
func seed(t *testing.T, d *testserver.Dovecot, user string, n int) {
	folders := []string{"INBOX", "Sent", "Archive/2024", "Entwürfe", "Q&A"}
	for _, f := range folders[1:] {
		d.CreateFolder(t, user, f, f != "Q&A")
	}
	by := map[string][]testserver.Message{}
	for i := range n {
		flags := []imap.Flag{imap.FlagSeen}
		if i%3 == 0 {
			flags = append(flags, "$label1", imap.FlagFlagged)
		}
		if i%7 == 0 {
			flags = []imap.Flag{imap.FlagAnswered, "Project-X"}
		}
		f := folders[i%len(folders)]
		by[f] = append(by[f], testserver.Message{Body: testMessage(i, 500+i*37%9000), Flags: flags,
			Date: time.Date(2021, 6, 1, 12, 0, i, 0, time.FixedZone("", (i%5-2)*3600))})
	}
	by["Q&A"] = append(by["Q&A"], by["Q&A"][0])
	for f, msgs := range by {
		d.Append(t, user, f, msgs...)
	}
}

func dialFor(t *testing.T, d *testserver.Dovecot, addr, user, pw string) func(context.Context) (*imapclient.Client, error) {
	return dialer(t, d, addr, user, pw).Dial
}

// appenderFor dials LITERAL+ Appenders as dialFor dials clients.
func appenderFor(t *testing.T, d *testserver.Dovecot, addr, user, pw string) func(context.Context) (*mailconn.Appender, error) {
	return dialer(t, d, addr, user, pw).DialAppender
}

// capabilityFor is a Dovecot capability list with or without LITERAL+,
// to test the synchronizing literals of servers without it.
func capabilityFor(literalPlus bool) string {
	if literalPlus {
		return ""
	}
	return "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE ESEARCH SEARCHRES WITHIN LIST-STATUS BINARY MOVE SPECIAL-USE"
}

func dialer(t *testing.T, d *testserver.Dovecot, addr, user, pw string) *mailconn.Dialer {
	env := "MAILFERRY_TEST_PW_" + strings.ToUpper(user) + fmt.Sprint(len(addr))
	t.Setenv(env, pw)
	ep, err := mailconn.ParseEndpoint("imap://" + user + "@" + addr)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{Env: env}, TLS: mailconn.TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

// mailbox lists every message of an account as "folder sha flags date",
// with folder names passed through rename.
func mailbox(t *testing.T, d *testserver.Dovecot, user string, rename func(string) string) []string {
	t.Helper()
	var out []string
	for _, m := range d.Messages(t, user) {
		out = append(out, fmt.Sprintf("%s %s %v %s", rename(m.Folder), m.Sum.Short(), m.Flags, m.InternalDate.UTC().Format(time.RFC3339)))
	}
	slices.Sort(out)
	return out
}

func exportAccount(t *testing.T, d *testserver.Dovecot, user, pw, dir string) archive.SnapshotInfo {
	t.Helper()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := export.Run(context.Background(), a, export.NewIMAPSource(export.IMAPConfig{
		Endpoint: "imap://" + user + "@" + d.IMAPAddr, Dial: dialFor(t, d, d.IMAPAddr, user, pw)}), export.Options{Account: user + "@src"})
	if err != nil || !rep.Complete() {
		t.Fatalf("export: %v %+v", err, rep)
	}
	snaps, _, _ := a.Snapshots()
	s, err := archive.SelectSnapshot(snaps, user+"@src", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestImportBetweenLayouts exports a Dovecot account with "/" folders and
// imports it into one with the Courier/Cyrus layout (prefix INBOX., "."):
// every message lands byte for byte with flags and dates, in the mapped
// folder; a second run appends nothing.
func TestImportBetweenLayouts(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}, SpecialUse: testserver.SpecialUseDeclared})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}, Prefix: "INBOX.", Separator: ".", SpecialUse: testserver.SpecialUseDeclared})
	seed(t, src, "alice", 300)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)

	manifest := filepath.Join(t.TempDir(), "manifest.jsonl")
	plan := func() map[string]FolderPlan {
		m, err := OpenManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		plans, err := PlanIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]FolderPlan{}
		for _, p := range plans {
			out[p.Mapping.Source.Name] = p
		}
		return out
	}
	// The dry run maps the folders, counts everything as new, and creates
	// nothing.
	before := plan()
	if p := before["Archive/2024"]; p.Dest != "INBOX.Archive.2024" || p.New != 60 || p.AlreadyThere != 0 || p.Mapping.Exists {
		t.Errorf("plan for Archive/2024: %+v", p)
	}
	if list, _ := dst.Login(t, "bob").List("", "*", nil).Collect(); len(list) != 1 {
		t.Errorf("dry run left %d folders on the destination, want only INBOX", len(list))
	}
	run := func() *ImportReport {
		m, err := OpenManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		rep, err := ImportIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
			DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m})
		if err != nil || !rep.Complete() {
			t.Fatalf("import: %v %+v", err, rep)
		}
		return rep
	}
	first := run()
	if first.Appended != 301 {
		t.Errorf("first import appended %d, want 301", first.Appended)
	}
	fromSrc := func(name string) string {
		if name == "INBOX" {
			return name
		}
		return "INBOX." + strings.ReplaceAll(name, "/", ".")
	}
	want := mailbox(t, src, "alice", fromSrc)
	got := mailbox(t, dst, "bob", func(s string) string { return s })
	if !slices.Equal(want, got) {
		t.Errorf("destination differs:\nwant %s\ngot  %s", strings.Join(want[:min(5, len(want))], "\n     "), strings.Join(got[:min(5, len(got))], "\n     "))
	}
	second := run()
	if second.Appended != 0 || second.AlreadyThere != 301 {
		t.Errorf("second import: appended %d, already there %d", second.Appended, second.AlreadyThere)
	}
	if p := plan()["Archive/2024"]; p.New != 0 || p.AlreadyThere != 60 || !p.Mapping.Exists {
		t.Errorf("plan after the import: %+v", p)
	}
	// Subscriptions are replayed as the source had them: not Q&A, and not
	// INBOX, which a new Dovecot account has not subscribed.
	subs, err := dst.Login(t, "bob").List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var subscribed []string
	for _, l := range subs {
		subscribed = append(subscribed, l.Mailbox)
	}
	slices.Sort(subscribed)
	if want := []string{"INBOX.Archive.2024", "INBOX.Entwürfe", "INBOX.Sent"}; !slices.Equal(subscribed, want) {
		t.Errorf("subscribed on the destination: %q, want %q", subscribed, want)
	}

	// verify agrees, then notices a lost message and a changed flag.
	verify := func() *VerifyReport {
		m, err := OpenManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		rep, err := VerifyIMAP(context.Background(), a, VerifyOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Manifest: m})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := verify(); !rep.OK() || len(rep.Folders) != 5 {
		t.Fatalf("verify after import: %+v", rep)
	}
	c := dst.Login(t, "bob")
	if _, err := c.Select("INBOX.Q&A", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	c.Expunge().Close()
	c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"$Tampered"}}, nil).Close()
	rep := verify()
	var missing, differ int
	for _, f := range rep.Folders {
		missing += len(f.Missing)
		differ += len(f.Changed)
	}
	if rep.OK() || missing != 1 || differ != 1 {
		t.Errorf("verify after tampering: %d missing, %d differing: %+v", missing, differ, rep)
	}
}

// TestImportSurvivesCutConnections cuts the destination connection several
// times mid-import: every message still lands exactly once.
func TestImportSurvivesCutConnections(t *testing.T) {
	for _, literalPlus := range []bool{false, true} {
		t.Run(fmt.Sprintf("LITERAL+ %v", literalPlus), func(t *testing.T) { cutImport(t, literalPlus) })
	}
}

func cutImport(t *testing.T, literalPlus bool) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}, Capability: capabilityFor(literalPlus)})
	seed(t, src, "alice", 200)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	// Server-to-client bytes during an import are responses: cut after
	// a few kB, which falls between and inside APPENDs.
	proxy := testserver.StartCutProxy(t, dst.IMAPAddr, 4<<10, 6)
	m, err := OpenManifest(filepath.Join(t.TempDir(), "m.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opts := IMAPOptions{Dial: dialFor(t, dst, proxy.Addr, "bob", "b-pw"), DialAppender: appenderFor(t, dst, proxy.Addr, "bob", "b-pw"),
		Snapshot: snap, Manifest: m, Connections: 2}
	rep, err := ImportIMAP(context.Background(), a, opts)
	if err != nil || !rep.Complete() {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if proxy.Cuts() == 0 {
		t.Fatal("no connection was cut")
	}
	want := mailbox(t, src, "alice", func(s string) string { return s })
	got := mailbox(t, dst, "bob", func(s string) string { return s })
	if !slices.Equal(want, got) {
		t.Errorf("after %d cuts: destination has %d messages, source %d (or they differ)", proxy.Cuts(), len(got), len(want))
	}
	t.Logf("%d cuts; appended %d, settled %d", proxy.Cuts(), rep.Appended, rep.Settled)
}

// TestImportDedupMessageID imports into a destination that already holds
// some of the mail (filled some other way): with DedupMessageID those are
// skipped, but a message without Message-ID is never taken for a duplicate.
func TestImportDedupMessageID(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	noID := []byte("From: cron@example.org\r\nSubject: no id\r\n\r\nbody\r\n")
	var msgs []testserver.Message
	for i := range 10 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 800)})
	}
	msgs = append(msgs, testserver.Message{Body: noID})
	src.Append(t, "alice", "INBOX", msgs...)
	// The destination has messages 0-4 and the one without Message-ID.
	dst.Append(t, "bob", "INBOX", append(msgs[:5:5], testserver.Message{Body: noID})...)

	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	m, err := OpenManifest(filepath.Join(t.TempDir(), "m.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rep, err := ImportIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
		DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m, DedupMessageID: true})
	if err != nil || !rep.Complete() {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if rep.DuplicatesSkipped != 5 || rep.Appended != 6 {
		t.Errorf("duplicates %d, appended %d; want 5 and 6 (5 new, and the one without Message-ID)", rep.DuplicatesSkipped, rep.Appended)
	}
	got := mailbox(t, dst, "bob", func(s string) string { return s })
	if len(got) != 12 {
		t.Errorf("destination holds %d messages, want 12 (6 before, 6 appended)", len(got))
	}
}

// TestImportRefusedMessage imports into a server that refuses one message
// (too large for its limit), on both append paths: that message is
// reported and every other one lands, although the Appender sends them in
// MULTIAPPENDs, where one refusal fails the whole command. A second run
// appends nothing new and reports the refusal again.
func TestImportRefusedMessage(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	var msgs []testserver.Message
	for i := range 30 {
		size := 2000
		if i == 17 {
			size = 300 << 10
		}
		msgs = append(msgs, testserver.Message{Body: testMessage(i, size), Flags: []imap.Flag{imap.FlagSeen},
			Date: time.Date(2022, 3, 4, 5, 6, i, 0, time.UTC)})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	want := mailbox(t, src, "alice", func(s string) string { return s })
	big := fmt.Sprintf("INBOX %s ", format.Sum(msgs[17].Body).Short())
	want = slices.DeleteFunc(want, func(s string) bool { return strings.HasPrefix(s, big) })
	if len(want) != 29 {
		t.Fatalf("source listing: %d messages besides the large one, want 29", len(want))
	}
	for _, literalPlus := range []bool{false, true} {
		t.Run(fmt.Sprintf("LITERAL+ %v", literalPlus), func(t *testing.T) {
			dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}, MaxMailSize: "100k", Capability: capabilityFor(literalPlus)})
			m, err := OpenManifest(filepath.Join(t.TempDir(), "m.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			opts := IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
				Snapshot: snap, Manifest: m}
			for run := range 2 {
				rep, err := ImportIMAP(context.Background(), a, opts)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Complete() || len(rep.Failed) != 1 || rep.Failed[0].UID != 18 || !strings.Contains(rep.Failed[0].Reason, "refused") {
					t.Errorf("run %d: failures %+v, want one, for uid 18 (the large message)", run, rep.Failed)
				}
				if wantAppended := []int{29, 0}[run]; rep.Appended != wantAppended {
					t.Errorf("run %d: appended %d, want %d", run, rep.Appended, wantAppended)
				}
				if got := mailbox(t, dst, "bob", func(s string) string { return s }); !slices.Equal(got, want) {
					t.Errorf("run %d: destination has %d messages; want the 29 others, identical", run, len(got))
				}
			}
		})
	}
}

// TestImportThrottles imports with --max-bytes-per-second and then with
// --max-messages-per-second, on the LITERAL+ path: each run can take no
// less time than its limit allows (a lower bound only, which a slow
// machine cannot break), and every message still lands.
func TestImportThrottles(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	var msgs []testserver.Message
	var total int
	for i := range 12 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 5000)})
		total += len(msgs[i].Body)
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	want := mailbox(t, src, "alice", func(s string) string { return s })
	for _, tc := range []struct {
		name     string
		throttle *mailconn.Throttle
		atLeast  time.Duration
	}{
		// 60 kB at 30 kB/s, less the first burst of 3 kB: 1.9 s.
		{"bytes", mailconn.NewThrottle(0, int64(total)/2), 1800 * time.Millisecond},
		// 12 messages at 8 per second, the first at once: 1.375 s.
		{"messages", mailconn.NewThrottle(8, 0), 1300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
			m, err := OpenManifest(filepath.Join(t.TempDir(), "m.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			start := time.Now()
			rep, err := ImportIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"),
				DialAppender: appenderFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m, Throttle: tc.throttle})
			took := time.Since(start)
			if err != nil || !rep.Complete() {
				t.Fatalf("import: %v %+v", err, rep)
			}
			if took < tc.atLeast {
				t.Errorf("import took %v; the throttle allows no less than %v", took, tc.atLeast)
			}
			if got := mailbox(t, dst, "bob", func(s string) string { return s }); !slices.Equal(got, want) {
				t.Errorf("destination has %d messages, want the %d of the source", len(got), len(want))
			}
		})
	}
}
