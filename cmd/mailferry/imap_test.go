package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/testserver"
)

// mainEnv makes the test binary run main() instead of the tests, so that
// tests can run mailferry as a process and kill it.
const mainEnv = "MAILFERRY_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Args = append([]string{"mailferry"}, strings.Split(os.Getenv(mainEnv), "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// mailferryProcess returns a command that runs mailferry with args.
func mailferryProcess(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), mainEnv+"="+strings.Join(args, "\x1f"))
	return cmd
}

func seedMailbox(t *testing.T, d *testserver.Dovecot, user string, n int) {
	t.Helper()
	folders := []string{"INBOX", "Archive/2024", "Entwürfe", "Q&A"}
	for _, f := range folders[1:] {
		d.CreateFolder(t, user, f, true)
	}
	var batch []testserver.Message
	flush := func(folder string) {
		if len(batch) > 0 {
			d.Append(t, user, folder, batch...)
			batch = batch[:0]
		}
	}
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(i), 9))
		var b bytes.Buffer
		fmt.Fprintf(&b, "From: a%d@example.net\r\nTo: %s@example.org\r\nSubject: test %d\r\nMessage-ID: <%d.t@example.net>\r\n\r\n", i%13, user, i, i)
		for b.Len() < 2000+i%7000 {
			fmt.Fprintf(&b, "%x %x %x\r\n", r.Uint64(), r.Uint64(), r.Uint64())
		}
		flags := []imap.Flag{imap.FlagSeen}
		if i%5 == 0 {
			flags = append(flags, "$label1", "Project-X")
		}
		batch = append(batch, testserver.Message{Body: b.Bytes(), Flags: flags, Date: time.Date(2022, 1, 1, 0, 0, i, 0, time.FixedZone("", (i%24-12)*3600))})
		if len(batch) == 500 || i == n-1 {
			flush(folders[(i/500)%len(folders)])
		}
	}
}

// serverSums lists what the server holds: folder, UID, SHA-256, flags.
func serverSums(t *testing.T, d *testserver.Dovecot, user string) []string {
	t.Helper()
	var out []string
	for _, m := range d.Messages(t, user) {
		out = append(out, fmt.Sprintf("%s/%d %s %v", m.Folder, m.UID, m.Sum, m.Flags))
	}
	return sorted(out)
}

func archiveSums(t *testing.T, dir, account string) []string {
	t.Helper()
	a, err := archive.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _, _ := a.Snapshots()
	snap, err := archive.SelectSnapshot(snaps, account, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	a.ReadSnapshot(snap.ID, func(rec format.SnapshotRecord) error {
		if m := rec.Message; m != nil {
			out = append(out, fmt.Sprintf("%s/%d %s %v", m.Folder, m.UID, m.ID, m.Flags))
		}
		return nil
	})
	return sorted(out)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestExportKilledAndResumed SIGKILLs `mailferry export` mid-run several
// times and once interrupts it like Ctrl-C; the same command then finishes
// the job without downloading again what had been committed. Over IMAP,
// over POP3, and from a Maildir (which has no message ids to resume by:
// each message is still stored once).
func TestExportKilledAndResumed(t *testing.T) {
	for _, scheme := range []string{"imap", "pop3", "maildir"} {
		t.Run(scheme, func(t *testing.T) { killAndResume(t, scheme) })
	}
}

func killAndResume(t *testing.T, scheme string) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "carol", Password: "carol-pw"}}})
	total, rate, addr := 1800, "600", d.IMAPAddr
	if scheme == "pop3" {
		// POP3 sees INBOX only, where the first 500 go; one session
		// fetches one message at a time.
		total, rate, addr = 500, "100", d.POP3Addr
	}
	seedMailbox(t, d, "carol", total)
	dir := filepath.Join(t.TempDir(), "archive")
	env := []string{"MAILFERRY_PASSWORD=carol-pw"}
	args := []string{"export", "--archive", dir, "--max-messages-per-second", rate, "--checkpoint-every", "200ms", "--json"}
	switch scheme {
	case "imap":
		args = append(args, "--from", scheme+"://carol@"+addr, "--tls-ca", d.CAFile, "--connections", "2")
	case "pop3":
		args = append(args, "--from", scheme+"://carol@"+addr, "--tls-ca", d.CAFile)
	case "maildir":
		args = append(args, "--from", "maildir:"+d.MaildirPath("carol"))
	}
	stored := func() int {
		a, err := archive.Open(dir)
		if err != nil {
			return 0
		}
		idx, _, _ := a.Index()
		_, _, n, _ := idx.Counts()
		return n
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for kill := range 4 {
		cmd := mailferryProcess(env, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(400+rng.IntN(500)) * time.Millisecond)
		sig := syscall.SIGKILL
		if kill == 3 {
			sig = syscall.SIGINT
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		t.Logf("run %d: %v after %s; %d messages stored so far", kill, sig, err, stored())
		if sig == syscall.SIGINT {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
				t.Errorf("interrupted export: %v, want exit status 130\n%s", err, out.String())
			}
		}
		// The archive is intact after every kill.
		if s := stored(); s > 0 {
			a, _ := archive.Open(dir)
			rep, err := a.Verify(t.Context())
			if err != nil || !rep.OK() {
				t.Fatalf("verify after kill %d: %v %v", kill, err, rep.Problems)
			}
		}
	}
	before := stored()
	if before == 0 || before >= total {
		t.Fatalf("%d of %d messages stored before the last run: kills came too early or too late to test resuming", before, total)
	}
	cmd := mailferryProcess(env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("final run: %v\n%s%s", err, out.String(), errOut.String())
	}
	var rep struct {
		Messages    int   `json:"messages"`
		Downloaded  int64 `json:"downloaded"`
		NewMessages int   `json:"new_messages"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if scheme == "maildir" {
		// Every file is read again, and only what the killed runs had
		// not committed is stored.
		if rep.Messages != total || rep.NewMessages != total-before || stored() != total {
			t.Errorf("final run: %d messages, %d new; %d were stored before it, %d after", rep.Messages, rep.NewMessages, before, stored())
		}
		return
	}
	// The run before was interrupted cleanly and checkpointed all it had
	// stored: at most the few messages in flight then are fetched again.
	if rep.Messages != total || rep.Downloaded > int64(total-before+10) {
		t.Errorf("final run: %d messages, %d downloaded; %d were stored before it", rep.Messages, rep.Downloaded, before)
	}
	if scheme == "imap" {
		want, got := serverSums(t, d, "carol"), archiveSums(t, dir, "carol@127.0.0.1")
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("archive differs from the server: %d vs %d records", len(got), len(want))
		}
	}
}

// TestImportKilledAndResumed SIGKILLs `mailferry import` at random points
// a dozen times, resuming each time: the destination ends with exactly the
// archive's messages, none twice and none missing.
func TestImportKilledAndResumed(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "carol", Password: "carol-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "dave", Password: "dave-pw"}}, Prefix: "INBOX.", Separator: "."})
	const total = 800
	seedMailbox(t, src, "carol", total)
	dir := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "imap://carol@"+src.IMAPAddr, "--archive", dir, "--tls-ca", src.CAFile, "--password-file", writeSecret(t, "carol-pw"))

	env := []string{"MAILFERRY_PASSWORD=dave-pw"}
	args := []string{"import", "--archive", dir, "--to", "imap://dave@" + dst.IMAPAddr, "--tls-ca", dst.CAFile,
		"--connections", "3", "--max-messages-per-second", "150", "--json"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for kill := range 12 {
		cmd := mailferryProcess(env, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Logf("run %d ended before the kill: %v\n%s", kill, err, out.String())
		}
	}
	cmd := mailferryProcess(env, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("final import: %v\n%s", err, out.String())
	}
	t.Logf("final run: %s", bytes.TrimSpace(out.Bytes()))

	rename := func(s string) string {
		if s == "INBOX" {
			return s
		}
		return strings.TrimPrefix(strings.ReplaceAll(s, ".", "/"), "INBOX/")
	}
	want := serverSums(t, src, "carol")
	got := serverSums(t, dst, "dave")
	// Compare without UIDs (the destination numbers its own), with the
	// destination's folder names mapped back.
	strip := func(list []string, mapName func(string) string) []string {
		var out []string
		for _, l := range list {
			folderUID, rest, _ := strings.Cut(l, " ")
			folder := folderUID[:strings.LastIndexByte(folderUID, '/')]
			out = append(out, mapName(folder)+" "+rest)
		}
		return sorted(out)
	}
	w, g := strip(want, func(s string) string { return s }), strip(got, rename)
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Errorf("destination after kills: %d messages, source %d (duplicates or losses)", len(g), len(w))
	}
	// A further run appends nothing.
	out2 := runCLI(t, append(args[:len(args)-1], "--password-file", writeSecret(t, "dave-pw"))...)
	if !strings.Contains(out2, "appended 0 (") || !strings.Contains(out2, "already there 800") {
		t.Errorf("run after completion: %s", out2)
	}
	out3 := runCLI(t, "verify", "--archive", dir, "--to", "imap://dave@"+dst.IMAPAddr, "--tls-ca", dst.CAFile, "--password-file", writeSecret(t, "dave-pw"))
	if !strings.Contains(out3, "as imported (bytes, flags and dates checked)") {
		t.Errorf("verify: %s", out3)
	}
	// No password anywhere: not in what mailferry printed, not in the
	// snapshot headers, not in any file of the archive or its manifest.
	a, _ := archive.Open(dir)
	snaps, _, _ := a.Snapshots()
	printed := out.String() + out2 + out3 + runCLI(t, "archive", "info", dir) + runCLI(t, "archive", "ls", dir, "--json") + fmt.Sprint(snaps)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			printed += string(b)
		}
		return nil
	})
	for _, pw := range []string{"carol-pw", "dave-pw"} {
		if strings.Contains(printed, pw) {
			t.Errorf("password %q appears in mailferry's output or archive", pw)
		}
	}
}

func writeSecret(t *testing.T, pw string) string {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
