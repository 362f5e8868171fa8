package export

import (
	"context"
	"github.com/mailferry/mailferry/internal/progress"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/testserver"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

func exportOnce(t *testing.T, dir string, src Source, opts Options) *Report {
	t.Helper()
	a, err := archive.OpenOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), a, src, opts)
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
	rep := exportOnce(t, dir, NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}), Options{Account: "alice@127.0.0.1", Connections: 3})
	if rep.NewMessages == 0 || rep.Messages != len(before) {
		t.Errorf("report: %d messages (%d new), server has %d", rep.Messages, rep.NewMessages, len(before))
	}

	// The source is unchanged: no \Seen set by the export, nothing moved.
	serverFolders, after := readServer(t, c)
	sameMessages(t, "server after export", before, after)

	// The archive holds every message byte for byte, with flags and dates.
	snap, folders, got := readArchive(t, dir, "alice@127.0.0.1")
	sameMessages(t, "archive", before, got)
	if ns := snap.Namespace; ns == nil || ns.Prefix != "" || ns.Delimiter != "/" {
		t.Errorf("snapshot namespace %+v, want prefix \"\" and delimiter /", ns)
	}

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
		{"INBOX", func(f format.Folder) bool {
			return slices.Contains(f.Flags, "$label1") && slices.Contains(f.Flags, "Project-X") && slices.Contains(f.Flags, `\Seen`)
		}},
		{"Archive/2024", func(f format.Folder) bool { return f.HasAttribute(`\Noselect`) }},
		{"Öffentliche Ordner", func(f format.Folder) bool { return f.HasAttribute(`\Noselect`) }},
	}
	for _, c := range checks {
		if f, ok := folders[c.name]; !ok || !c.ok(f) {
			t.Errorf("folder %q: %+v (present %v)", c.name, f, ok)
		}
	}
}

// TestIMAPExportIncremental changes the account between exports: the next
// export downloads only what is new, yet its snapshot is the whole state.
func TestIMAPExportIncremental(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 300, 0)
	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	dir := t.TempDir()
	src := func() Source { return NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}) }
	opts := func(p *progress.Progress) Options {
		return Options{Account: "alice@test", Connections: 2, Progress: p}
	}
	first := new(progress.Progress)
	exportOnce(t, dir, src(), opts(first))
	c := d.Login(t, testUser)
	_, state := readServer(t, c)
	if first.Transferred.Load() != int64(len(state)) {
		t.Fatalf("first export downloaded %d of %d", first.Transferred.Load(), len(state))
	}

	// Nothing changed: nothing is downloaded.
	again := new(progress.Progress)
	exportOnce(t, dir, src(), opts(again))
	if n := again.Transferred.Load(); n != 0 {
		t.Errorf("unchanged account: downloaded %d messages", n)
	}

	// New mail, flag changes, expunged mail, a new folder.
	d.Append(t, testUser, "INBOX", testserver.Message{Body: generated(9001, 3000), Date: time.Date(2025, 5, 5, 5, 5, 5, 0, zones[0])},
		testserver.Message{Body: generated(9002, 3000), Flags: []imap.Flag{"NewKeyword"}})
	d.Append(t, testUser, "New Folder", testserver.Message{Body: generated(9003, 100)})
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Changed"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(10, 11), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	_, state = readServer(t, c)
	third := new(progress.Progress)
	exportOnce(t, dir, src(), opts(third))
	if n := third.Transferred.Load(); n != 3 {
		t.Errorf("after 3 new messages: downloaded %d", n)
	}
	_, _, got := readArchive(t, dir, "alice@test")
	sameMessages(t, "archive after changes", state, got)

	// A folder recreated gets a new UIDVALIDITY: its messages are
	// recognised by their headers, not downloaded again.
	var qa []testserver.Message
	for _, m := range state {
		if m.folder == "Q&A" {
			rc := runCat(t, dir, m.sum)
			qa = append(qa, testserver.Message{Body: rc, Date: m.date})
		}
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("Q&A").Wait(); err != nil {
		t.Fatal(err)
	}
	d.Append(t, testUser, "Q&A", qa...)
	_, state = readServer(t, c)
	fourth := new(progress.Progress)
	rep := exportOnce(t, dir, src(), opts(fourth))
	if n := fourth.Transferred.Load(); n != 0 {
		t.Errorf("recreated folder of %d known messages: downloaded %d (warnings %v)", len(qa), n, rep.Warnings)
	}
	_, _, got = readArchive(t, dir, "alice@test")
	sameMessages(t, "archive after UIDVALIDITY change", state, got)
}

func runCat(t *testing.T, dir string, id format.ID) []byte {
	t.Helper()
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _, _ := a.Index()
	r, _ := a.NewReader(idx)
	defer r.Close()
	rc, _, err := r.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIMAPExportSurvivesCutConnections cuts connections in the middle of
// FETCH responses: the export redials, resumes, and ends with the same
// archive content as an undisturbed one.
func TestIMAPExportSurvivesCutConnections(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 400, 3<<20)
	// Every one of the first 5 connections is cut after 300 kB from the
	// server: inside the login, the metadata or a body literal.
	proxy := testserver.StartCutProxy(t, d.IMAPAddr, 300<<10, 5)
	dial, endpoint := dialer(t, d, proxy.Addr, testUser, testPassword)
	dir := t.TempDir()
	rep := exportOnce(t, dir, NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}), Options{Account: "alice@test", Connections: 2})
	if proxy.Cuts() == 0 {
		t.Fatal("the proxy cut no connection: the test tested nothing")
	}
	_, state := readServer(t, d.Login(t, testUser))
	_, _, got := readArchive(t, dir, "alice@test")
	sameMessages(t, "archive exported through cuts", state, got)
	t.Logf("%d cuts, %d connections; report: %s", proxy.Cuts(), proxy.Conns(), rep)
}

// TestIMAPExportRefusedMessage makes one message unreadable for Dovecot:
// the export reports that message and exports every other one.
func TestIMAPExportRefusedMessage(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 50, 0)
	c := d.Login(t, testUser)
	_, state := readServer(t, c)
	files, _ := filepath.Glob(filepath.Join(d.MaildirPath(testUser), "cur", "*"))
	if len(files) == 0 {
		t.Fatal("no message files in INBOX")
	}
	if err := os.Chmod(files[len(files)/2], 0); err != nil {
		t.Fatal(err)
	}
	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	a, err := archive.OpenOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), a, NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}), Options{Account: "alice@test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Folder != "INBOX" || !strings.HasPrefix(rep.Failures[0].Item, "uid ") {
		t.Fatalf("failures: %+v", rep.Failures)
	}
	if rep.Messages != len(state)-1 {
		t.Errorf("exported %d messages, want all %d but the refused one", rep.Messages, len(state)-1)
	}
}

// TestIMAPDryRunStoresNothing lists what an export would do, filtered by
// --include and --exclude, and leaves no archive behind.
func TestIMAPDryRunStoresNothing(t *testing.T) {
	d := startDovecot(t)
	seedAccount(t, d, 20, 0)
	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	rep, err := Run(context.Background(), nil, NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}), Options{Account: "alice@test", DryRun: true,
		Filter: FolderFilter{Include: []*regexp.Regexp{regexp.MustCompile(`^(INBOX|Q&A|Archive)`)}, Exclude: []*regexp.Regexp{regexp.MustCompile(`Q1$`)}}})
	if err != nil {
		t.Fatal(err)
	}
	plans := rep.Plan
	got := map[string]FolderPlan{}
	for _, p := range plans {
		got[p.Folder] = p
	}
	_, state := readServer(t, d.Login(t, testUser))
	inbox := 0
	for _, m := range state {
		if m.folder == "INBOX" {
			inbox++
		}
	}
	if p := got["INBOX"]; p.Messages != inbox || p.New != inbox || p.Bytes == 0 {
		t.Errorf("INBOX plan %+v, server has %d messages", p, inbox)
	}
	if _, ok := got["Q&A"]; !ok || len(got) != 4 {
		t.Errorf("folders planned: %v; want INBOX, Q&A, Archive, Archive/2024", plans)
	}
	if _, ok := got["Archive/2024/Q1"]; ok {
		t.Error("excluded folder planned")
	}
}

// TestIMAPExportThrottles exports with a byte rate and then a message
// rate over two connections: each export can take no less time than its
// limit allows across both (a lower bound only, which a slow machine
// cannot break), and the archive still holds every message.
func TestIMAPExportThrottles(t *testing.T) {
	d := startDovecot(t)
	var msgs []testserver.Message
	total := 0
	for i := range 12 {
		msgs = append(msgs, testserver.Message{Body: generated(i, 5000)})
		total += len(msgs[i].Body)
	}
	d.Append(t, testUser, "INBOX", msgs...)
	dial, endpoint := dialer(t, d, d.IMAPAddr, testUser, testPassword)
	c := d.Login(t, testUser)
	_, want := readServer(t, c)
	for _, tc := range []struct {
		name     string
		throttle Throttle
		atLeast  time.Duration
	}{
		// 60 kB at 30 kB/s (as Dovecot sends them, with CRLF), less the first burst: 1.9 s.
		{"bytes", mailconn.NewThrottle(0, int64(total)/2), 1800 * time.Millisecond},
		// 12 messages at 8 per second, the first at once: 1.375 s.
		{"messages", mailconn.NewThrottle(8, 0), 1300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			exportOnce(t, dir, NewIMAPSource(IMAPConfig{Endpoint: endpoint, Dial: dial}), Options{Account: "alice@test", Connections: 2, Throttle: tc.throttle})
			if took := time.Since(start); took < tc.atLeast {
				t.Errorf("export took %v; the throttle allows no less than %v", took, tc.atLeast)
			}
			_, _, got := readArchive(t, dir, "alice@test")
			sameMessages(t, "archive", want, got)
		})
	}
}
