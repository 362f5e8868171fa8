package importer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/internal/testserver"
)

// importOnce runs one import of snap into bob's account with a manifest at
// path, reaching the destination at addr.
func importOnce(t *testing.T, a *archive.Archive, snap archive.SnapshotInfo, dst *testserver.Dovecot, addr, path string, tweak func(*IMAPOptions)) *ImportReport {
	t.Helper()
	m, err := OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opts := IMAPOptions{Dial: dialFor(t, dst, addr, "bob", "b-pw"), DialAppender: appenderFor(t, dst, addr, "bob", "b-pw"), Snapshot: snap, Manifest: m}
	if tweak != nil {
		tweak(&opts)
	}
	rep, err := ImportIMAP(context.Background(), a, opts)
	if err != nil {
		t.Fatalf("import: %v %+v", err, rep)
	}
	return rep
}

func verifyOnce(t *testing.T, a *archive.Archive, dst *testserver.Dovecot, path string, quick bool) *VerifyReport {
	t.Helper()
	m, err := OpenManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rep, err := VerifyIMAP(context.Background(), a, VerifyOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Manifest: m, Quick: quick})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func same(s string) string { return s }

// seededPair starts a source Dovecot with n messages of alice's (seed),
// exports them, and starts an empty destination for bob: the archive, its
// snapshot and a path for the manifest.
func seededPair(t *testing.T, n int) (src, dst *testserver.Dovecot, a *archive.Archive, snap archive.SnapshotInfo, manifest string) {
	src = testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst = testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	seed(t, src, "alice", n)
	dir := t.TempDir()
	snap = exportAccount(t, src, "alice", "a-pw", dir)
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src, dst, a, snap, filepath.Join(t.TempDir(), "m.jsonl")
}

// wipeUser deletes every folder of user but INBOX and empties INBOX, as a
// destination rebuilt at the same address would be.
func wipeUser(t *testing.T, d *testserver.Dovecot, user string) {
	list := strings.Fields(d.Doveadm(t, "mailbox", "list", "-u", user))
	sort.Sort(sort.Reverse(sort.StringSlice(list))) // children first
	d.Doveadm(t, "expunge", "-u", user, "mailbox", "*", "all")
	for _, f := range list {
		if f != "INBOX" {
			d.Doveadm(t, "mailbox", "delete", "-u", user, f)
		}
	}
}

// TestImportRestoresWhatTheDestinationLost: the manifest is checked
// against the destination. A folder the user emptied, then a wiped account,
// get their mail back (reported as restored, not "already there"), and an
// import --into T2 after a plain one lands everything in T2.
func TestImportRestoresWhatTheDestinationLost(t *testing.T) {
	src, dst, a, snap, manifest := seededPair(t, 60)
	want := mailbox(t, src, "alice", same)
	total := len(want)

	if rep := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil); rep.Appended != total {
		t.Fatalf("first import appended %d, want %d", rep.Appended, total)
	}
	sent := 0
	for _, m := range want {
		if strings.HasPrefix(m, "Sent ") {
			sent++
		}
	}
	dst.Doveadm(t, "expunge", "-u", "bob", "mailbox", "Sent", "all")
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil)
	if rep.Restored != sent || rep.Appended != 0 || rep.AlreadyThere != total-sent {
		t.Errorf("after Sent was emptied: restored %d, appended %d, already there %d; want %d, 0, %d", rep.Restored, rep.Appended, rep.AlreadyThere, sent, total-sent)
	}
	if got := mailbox(t, dst, "bob", same); !slices.Equal(got, want) {
		t.Errorf("after restoring Sent: %d messages, want %d identical", len(got), len(want))
	}

	wipeUser(t, dst, "bob")
	rep = importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil)
	if rep.Restored != total || rep.AlreadyThere != 0 {
		t.Errorf("after the account was wiped: restored %d (%v), already there %d; want %d, 0", rep.Restored, rep.RestoredWhy, rep.AlreadyThere, total)
	}
	// One reason per folder: INBOX kept its UIDVALIDITY and lost its
	// messages, the others were recreated.
	if why := rep.RestoredWhy; len(why) != 5 || why[`gone from "INBOX" (expunged since the import)`] == 0 || why[`folder "Sent" was recreated (UIDVALIDITY changed)`] == 0 {
		t.Errorf("restored, by reason: %v", why)
	}
	if got := mailbox(t, dst, "bob", same); !slices.Equal(got, want) {
		t.Errorf("after restoring the account: %d messages, want %d identical", len(got), len(want))
	}
	if rep := importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil); rep.Appended+rep.Restored != 0 || rep.AlreadyThere != total {
		t.Errorf("run after the restore: %+v", rep)
	}
	// verify (by bytes) agrees.
	if v := verifyOnce(t, a, dst, manifest, false); !v.OK() {
		t.Errorf("verify after the restore: %+v", v.Folders)
	}

	rep = importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, func(o *IMAPOptions) { o.Folders = foldermap.Options{Into: "T2"} })
	if rep.Appended != total {
		t.Errorf("--into T2 after a plain import appended %d, want %d", rep.Appended, total)
	}
	inT2 := 0
	for _, m := range dst.Messages(t, "bob") {
		if m.Folder == "T2" || strings.HasPrefix(m.Folder, "T2/") {
			inT2++
		}
	}
	if inT2 != total {
		t.Errorf("T2 holds %d messages, want %d", inT2, total)
	}
}

// TestImportWithoutManifestAppendsNothingTwice: a destination that holds
// the mail already, unknown to the manifest (another manifest, the same
// server under another name), gets nothing appended twice, even the two
// identical messages of one folder; a message of the same Message-ID and
// size but other bytes is not taken for a duplicate.
func TestImportWithoutManifestAppendsNothingTwice(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	seed(t, src, "alice", 40)
	// An altered copy of a source message (same size, same Message-ID) is
	// in the destination's INBOX before any import.
	altered := testMessage(0, 500)
	altered[len(altered)-3] ^= 1
	dst.Append(t, "bob", "INBOX", testserver.Message{Body: altered})
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	want := mailbox(t, src, "alice", same)

	first := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "a.jsonl"), nil)
	if first.Appended != len(want) || first.DuplicatesSkipped != 0 {
		t.Errorf("first import: appended %d, duplicates %d; want %d, 0 (the altered copy is not the message)", first.Appended, first.DuplicatesSkipped, len(want))
	}
	// The same server as "localhost", with a manifest of its own.
	host := strings.Replace(dst.IMAPAddr, "127.0.0.1", "localhost", 1)
	plan := func() []FolderPlan {
		m, err := OpenManifest(filepath.Join(t.TempDir(), "plan.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		p, err := PlanIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, host, "bob", "b-pw"), Snapshot: snap, Manifest: m})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknown := 0
	for _, p := range plan() {
		if p.Source == "INBOX" {
			unknown = p.Unknown
		}
	}
	if unknown == 0 {
		t.Errorf("the plan shows no messages unknown to the manifest in INBOX")
	}
	second := importOnce(t, a, snap, dst, host, filepath.Join(t.TempDir(), "b.jsonl"), nil)
	if second.Appended != 0 || second.DuplicatesSkipped != len(want) {
		t.Errorf("second import under another name: appended %d, duplicates skipped %d; want 0, %d", second.Appended, second.DuplicatesSkipped, len(want))
	}
	got := mailbox(t, dst, "bob", same)
	if len(got) != len(want)+1 {
		t.Errorf("destination holds %d messages, want %d (the source's and the altered copy)", len(got), len(want)+1)
	}
}

// TestVerifyChecksBytes: a destination message whose bytes changed (same
// size, same Message-ID, same UID: a file edited on the server) is
// reported CHANGED, with what changed; --quick cannot see it.
func TestVerifyChecksBytes(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	var msgs []testserver.Message
	for i := range 8 {
		msgs = append(msgs, testserver.Message{Body: testMessage(i, 3000), Flags: []imap.Flag{imap.FlagSeen}})
	}
	src.Append(t, "alice", "INBOX", msgs...)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	manifest := filepath.Join(t.TempDir(), "m.jsonl")
	importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil)
	if v := verifyOnce(t, a, dst, manifest, false); !v.OK() || v.Folders[0].Verified != 8 {
		t.Fatalf("verify after import: %+v", v.Folders)
	}
	// Flip one byte of one message's body in the destination's Maildir.
	files, _ := filepath.Glob(filepath.Join(dst.MaildirPath("bob"), "cur", "*"))
	if len(files) != 8 {
		t.Fatalf("%d files in the destination's INBOX", len(files))
	}
	b, err := os.ReadFile(files[3])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-5] ^= 0x20
	if err := os.WriteFile(files[3], b, 0o600); err != nil {
		t.Fatal(err)
	}
	v := verifyOnce(t, a, dst, manifest, false)
	if v.OK() || len(v.Folders[0].Changed) != 1 || !strings.Contains(v.Folders[0].Changed[0].Reason, "body changed") {
		t.Errorf("verify after the edit: %+v", v.Folders)
	}
	if q := verifyOnce(t, a, dst, manifest, true); !q.OK() {
		t.Errorf("quick verify sees more than UIDs, sizes, flags and dates: %+v", q.Folders)
	}
}

// TestImportCutOverConverges: bulk import, then the source changes (flags,
// expunges, a new message), is exported again, and the import of the
// newer snapshot with Delete leaves the destination equal to the source.
func TestImportCutOverConverges(t *testing.T) {
	src, dst, a, snap, manifest := seededPair(t, 50)
	dir := a.Dir()
	importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil)
	// A message the user filed on the destination before cut-over is
	// not the import's to delete.
	dst.Append(t, "bob", "INBOX", testserver.Message{Body: testMessage(999, 700)})

	c := src.Login(t, "alice")
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Store(imap.UIDSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Cutover"}}, nil).Close()
	c.Store(imap.UIDSetNum(4, 5), &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	c.Store(imap.UIDSetNum(6, 7, 8), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	c.Expunge().Close()
	c.Close()
	src.Append(t, "alice", "Sent", testserver.Message{Body: testMessage(500, 900), Flags: []imap.Flag{imap.FlagSeen}})
	snap2 := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ = archive.Open(dir)

	m, _ := OpenManifest(manifest)
	plans, err := PlanIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap2, Manifest: m, Delete: true})
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	var flags, del, newMsgs int
	for _, p := range plans {
		flags, del, newMsgs = flags+p.FlagsToUpdate, del+p.ToDelete, newMsgs+p.New
	}
	if flags != 5 || del != 3 || newMsgs != 1 {
		t.Errorf("plan: %d flags to update, %d to delete, %d new; want 5, 3, 1", flags, del, newMsgs)
	}
	rep := importOnce(t, a, snap2, dst, dst.IMAPAddr, manifest, func(o *IMAPOptions) { o.Delete = true })
	if rep.FlagsUpdated != 5 || rep.Deleted != 3 || rep.Appended != 1 || !rep.Complete() {
		t.Errorf("cut-over: flags updated %d, deleted %d, appended %d, failed %v; want 5, 3, 1, none", rep.FlagsUpdated, rep.Deleted, rep.Appended, rep.Failed)
	}
	want := mailbox(t, src, "alice", same)
	got := mailbox(t, dst, "bob", same)
	mine := testserver.Message{Body: testMessage(999, 700)}
	got = slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, "INBOX "+format.Sum(mine.Body).Short()) })
	if !slices.Equal(got, want) {
		t.Errorf("after cut-over the destination differs from the source:\nwant %d %q\ngot  %d %q", len(want), want[:3], len(got), got[:3])
	}
	if v := verifyOnce(t, a, dst, manifest, false); len(v.Folders) == 0 || func() bool {
		for _, f := range v.Folders {
			if len(f.Missing)+len(f.Changed) > 0 || (f.Folder != "INBOX" && len(f.Extra) > 0) {
				return true
			}
		}
		return false
	}() {
		t.Errorf("verify after cut-over: %+v", v.Folders)
	}
	if rep := importOnce(t, a, snap2, dst, dst.IMAPAddr, manifest, func(o *IMAPOptions) { o.Delete = true }); rep.FlagsUpdated+rep.Deleted+rep.Appended != 0 {
		t.Errorf("second cut-over run changed something: %+v", rep)
	}
}

// TestImportDamagedArchive flips one byte in a pack: the messages it spoils
// fail at once as archive damage (no reconnects, no retries), every other
// message lands identical, and the report says so.
func TestImportDamagedArchive(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}})
	seed(t, src, "alice", 300)
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*", "*"))
	if len(packs) == 0 {
		t.Fatal("no pack files")
	}
	sort.Slice(packs, func(i, j int) bool { return fileSize(packs[i]) > fileSize(packs[j]) })
	b, _ := os.ReadFile(packs[0])
	b[len(b)/2] ^= 0xff
	os.Chmod(packs[0], 0o600)
	if err := os.WriteFile(packs[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := archive.Open(dir)
	want := mailbox(t, src, "alice", same)
	rep := importOnce(t, a, snap, dst, dst.IMAPAddr, filepath.Join(t.TempDir(), "m.jsonl"), nil)
	if !rep.ArchiveDamage || len(rep.Failed) == 0 || rep.Appended+len(rep.Failed) != len(want) {
		t.Fatalf("import of a damaged archive: damage %v, %d failed, %d appended of %d", rep.ArchiveDamage, len(rep.Failed), rep.Appended, len(want))
	}
	for _, f := range rep.Failed {
		if !strings.HasPrefix(f.Reason, "archive damage") || f.Message == "" {
			t.Errorf("failure %+v: want archive damage naming the message", f)
		}
	}
	got := mailbox(t, dst, "bob", same)
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			t.Errorf("destination message %q is not a source message", g)
		}
	}
	if len(got) != rep.Appended {
		t.Errorf("destination holds %d messages, the report says %d appended", len(got), rep.Appended)
	}
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// TestImportKeepsSourceFoldersApart: Drafts and Entwürfe (German for
// drafts) both look like the drafts folder, so neither is moved onto the
// destination's \Drafts by its name: they stay two folders, each with its
// own messages, and the plan says why.
func TestImportKeepsSourceFoldersApart(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "alice", Password: "a-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}, SpecialUse: testserver.SpecialUseCreated})
	for i, f := range []string{"Drafts", "Entwürfe"} {
		src.CreateFolder(t, "alice", f, true)
		for k := range 3 + i {
			src.Append(t, "alice", f, testserver.Message{Body: testMessage(10*i+k, 600)})
		}
	}
	dir := t.TempDir()
	snap := exportAccount(t, src, "alice", "a-pw", dir)
	a, _ := archive.Open(dir)
	manifest := filepath.Join(t.TempDir(), "m.jsonl")
	m, _ := OpenManifest(manifest)
	plans, err := PlanIMAP(context.Background(), a, IMAPOptions{Dial: dialFor(t, dst, dst.IMAPAddr, "bob", "b-pw"), Snapshot: snap, Manifest: m})
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	dests := map[string]string{}
	for _, p := range plans {
		dests[p.Source] = p.Dest
		if p.Source == "Entwürfe" && !strings.Contains(strings.Join(p.Notes, "; "), "kept its name") {
			t.Errorf("the plan does not say why Entwürfe kept its name: %q", p.Notes)
		}
	}
	if dests["Drafts"] == dests["Entwürfe"] {
		t.Fatalf("Drafts and Entwürfe both go to %q", dests["Drafts"])
	}
	importOnce(t, a, snap, dst, dst.IMAPAddr, manifest, nil)
	count := map[string]int{}
	for _, msg := range dst.Messages(t, "bob") {
		count[msg.Folder]++
	}
	if count[dests["Drafts"]] != 3 || count[dests["Entwürfe"]] != 4 {
		t.Errorf("destination folders hold %v; want 3 in %q and 4 in %q", count, dests["Drafts"], dests["Entwürfe"])
	}
}
