package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
)

// withoutUIDs turns serverSums' lines into "folder sum flags", which a
// destination that numbers its own UIDs keeps.
func withoutUIDs(lines []string) []string {
	var out []string
	for _, l := range lines {
		folderUID, rest, _ := strings.Cut(l, " ")
		out = append(out, folderUID[:strings.LastIndexByte(folderUID, '/')]+" "+rest)
	}
	return sorted(out)
}

// TestImportAccounts exports twenty accounts with an administrator's login
// into one archive and imports them into twenty users of a Dovecot with an
// administrator's login, three at once: one with a wrong password fails
// alone and is named, the exit status says so; the
// others land byte for byte; a run with the password fixed finishes only
// that one; verify --accounts agrees. Two shards together cover every
// account once.
func TestImportAccounts(t *testing.T) {
	const accountsN = 20
	var srcUsers, dstUsers []testserver.User
	for i := range accountsN {
		srcUsers = append(srcUsers, testserver.User{Name: fmt.Sprintf("s%d", i), Password: "src-pw"})
		dstUsers = append(dstUsers, testserver.User{Name: fmt.Sprintf("d%d", i), Password: fmt.Sprintf("user-pw-%d", i)})
	}
	src := testserver.StartDovecot(t, testserver.Options{Users: srcUsers, Master: &testserver.User{Name: "srcadmin", Password: "srcadmin-pw"}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: dstUsers, Master: &testserver.User{Name: "admin", Password: "admin-pw"}})
	dir := t.TempDir()
	arch := filepath.Join(dir, "archive")
	for i, u := range srcUsers {
		seedMailbox(t, src, u.Name, 8+i)
	}
	srcPW, adminPW, wrongPW := writeSecret(t, "srcadmin-pw"), writeSecret(t, "admin-pw"), writeSecret(t, "not-it")
	file := filepath.Join(dir, "accounts.csv")
	write := func(badRow int) {
		var b strings.Builder
		b.WriteString("account,source,source_user,source_auth_user,source_password_file,destination,destination_user,destination_auth_user,destination_password_file\n")
		for i := range accountsN {
			pw := adminPW
			if i == badRow {
				pw = wrongPW
			}
			fmt.Fprintf(&b, "acct%d,imap://%s,s%d,srcadmin,%s,imap://%s,d%d,admin,%s\n", i, src.IMAPAddr, i, srcPW, dst.IMAPAddr, i, pw)
		}
		os.WriteFile(file, []byte(b.String()), 0o600)
	}
	write(4)
	// Every account exported with the source's administrator login, into
	// one archive, three at once.
	if out, err := runCLIErr("export", "--archive", arch, "--accounts", file, "--parallel", "3", "--tls-ca", src.CAFile); err != nil {
		t.Fatalf("export --accounts: %v\n%s", err, out)
	}
	for i := range accountsN {
		if got, want := len(archiveSums(t, arch, fmt.Sprintf("acct%d", i))), 8+i; got != want {
			t.Errorf("acct%d in the archive: %d messages, want %d", i, got, want)
		}
	}
	args := []string{"import", "--archive", arch, "--accounts", file, "--parallel", "3", "--per-host", "2", "--tls-ca", dst.CAFile}
	report := filepath.Join(dir, "report.json")
	out, err := runCLIErr(append(args, "--report", report)...)
	if exitCodeOf(err) != 3 || !strings.Contains(err.Error(), fmt.Sprintf("1 of %d accounts did not complete: acct4", accountsN)) {
		t.Fatalf("import --accounts with one wrong password: exit %d, %v\n%s", exitCodeOf(err), err, out)
	}
	if b, _ := os.ReadFile(report); !strings.Contains(string(b), `"account": "acct3"`) {
		t.Errorf("report: %.400s", b)
	}
	for i := range accountsN {
		want := withoutUIDs(serverSums(t, src, srcUsers[i].Name))
		got := withoutUIDs(serverSums(t, dst, dstUsers[i].Name))
		if i == 4 {
			want = nil
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("d%d holds %d messages, want %d identical", i, len(got), len(want))
		}
	}
	write(-1)
	out = runCLI(t, args...)
	if !strings.Contains(out, "acct4") || strings.Count(out, " ok") != accountsN {
		t.Errorf("second run:\n%s", out)
	}
	if got, want := withoutUIDs(serverSums(t, dst, "d4")), withoutUIDs(serverSums(t, src, "s4")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("d4 after the second run: %d messages, want %d", len(got), len(want))
	}
	if out, err := runCLIErr("verify", "--archive", arch, "--accounts", file, "--tls-ca", dst.CAFile); err != nil {
		t.Errorf("verify --accounts: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for shard := range 2 {
		out := runCLI(t, "verify", "--archive", arch, "--accounts", file, "--tls-ca", dst.CAFile, "--shard", fmt.Sprintf("%d/2", shard), "--json")
		for i := range accountsN {
			if strings.Contains(out, fmt.Sprintf(`"account": "acct%d"`, i)) {
				seen[fmt.Sprint(i)]++
			}
		}
	}
	if len(seen) != accountsN {
		t.Errorf("two shards covered %d accounts (%v), want each of %d once", len(seen), seen, accountsN)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("account %s in %d shards", k, n)
		}
	}
}

// TestImportAccountsKilled SIGKILLs import --accounts at random points and
// runs it again: every account ends with exactly its messages, none twice.
func TestImportAccountsKilled(t *testing.T) {
	var srcUsers, dstUsers []testserver.User
	for i := range 4 {
		srcUsers = append(srcUsers, testserver.User{Name: fmt.Sprintf("s%d", i), Password: "src-pw"})
		dstUsers = append(dstUsers, testserver.User{Name: fmt.Sprintf("d%d", i), Password: "dst-pw"})
	}
	src := testserver.StartDovecot(t, testserver.Options{Users: srcUsers})
	dst := testserver.StartDovecot(t, testserver.Options{Users: dstUsers})
	dir := t.TempDir()
	arch := filepath.Join(dir, "archive")
	for i, u := range srcUsers {
		seedMailbox(t, src, u.Name, 120)
		runCLI(t, "export", "--from", "imap://"+u.Name+"@"+src.IMAPAddr, "--archive", arch, "--tls-ca", src.CAFile,
			"--password-file", writeSecret(t, "src-pw"), "--account", fmt.Sprintf("acct%d", i))
	}
	pw := writeSecret(t, "dst-pw")
	file := filepath.Join(dir, "accounts.csv")
	var b strings.Builder
	b.WriteString("account,destination,destination_user,destination_password_file\n")
	for i := range 4 {
		fmt.Fprintf(&b, "acct%d,imap://%s,d%d,%s\n", i, dst.IMAPAddr, i, pw)
	}
	os.WriteFile(file, []byte(b.String()), 0o600)
	args := []string{"import", "--archive", arch, "--accounts", file, "--parallel", "2", "--tls-ca", dst.CAFile, "--max-messages-per-second", "200"}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for range 5 {
		cmd := mailferryProcess(nil, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if out, err := runCLIErr(args...); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	for i := range 4 {
		want := withoutUIDs(serverSums(t, src, srcUsers[i].Name))
		got := withoutUIDs(serverSums(t, dst, dstUsers[i].Name))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("d%d after kills: %d messages, want %d identical (duplicates or losses)", i, len(got), len(want))
		}
	}
}

// TestExportShardsAtOnce runs two shards of export --accounts at the same
// time, as two workers of a scheduler would, into one archive: every
// account is exported by exactly one of them, whole, and the archive
// verifies.
func TestExportShardsAtOnce(t *testing.T) {
	var users []testserver.User
	for i := range 8 {
		users = append(users, testserver.User{Name: fmt.Sprintf("u%d", i), Password: "pw"})
	}
	src := testserver.StartDovecot(t, testserver.Options{Users: users})
	dir := t.TempDir()
	file := filepath.Join(dir, "accounts.csv")
	var b strings.Builder
	b.WriteString("account,source,source_user,source_password_file\n")
	pw := writeSecret(t, "pw")
	for i, u := range users {
		seedMailbox(t, src, u.Name, 20+i)
		fmt.Fprintf(&b, "acct%d,imap://%s,%s,%s\n", i, src.IMAPAddr, u.Name, pw)
	}
	os.WriteFile(file, []byte(b.String()), 0o600)
	arch := filepath.Join(dir, "archive")
	var outs [2]strings.Builder
	var cmds []*exec.Cmd
	for shard := range 2 {
		cmd := mailferryProcess(nil, "export", "--archive", arch, "--accounts", file, "--shard", fmt.Sprintf("%d/2", shard), "--parallel", "2", "--tls-ca", src.CAFile, "--json")
		cmd.Stdout, cmd.Stderr = &outs[shard], &outs[shard]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for shard, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", shard, err, outs[shard].String())
		}
	}
	for i := range users {
		in := 0
		for shard := range 2 {
			if strings.Contains(outs[shard].String(), fmt.Sprintf(`"account": "acct%d"`, i)) {
				in++
			}
		}
		if in != 1 {
			t.Errorf("acct%d exported by %d shards, want 1", i, in)
		}
		if n := len(archiveSums(t, arch, fmt.Sprintf("acct%d", i))); n != 20+i {
			t.Errorf("acct%d: %d messages in the archive, want %d", i, n, 20+i)
		}
	}
	if out, err := runCLIErr("archive", "verify", arch); err != nil {
		t.Errorf("archive verify after two writers: %v\n%s", err, out)
	}
}

// TestLoginForms: an administrator's login written the way some servers
// want it in the user name itself (Dovecot's user*master) reaches the
// user's mailbox with the administrator's password: the user name goes to
// the server as written.
func TestLoginForms(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "bob-pw"}}, Master: &testserver.User{Name: "admin", Password: "admin-pw"}})
	seedMailbox(t, src, "ann", 12)
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "imap://ann@"+src.IMAPAddr, "--archive", arch, "--tls-ca", src.CAFile, "--password-file", writeSecret(t, "ann-pw"))
	out := runCLI(t, "import", "--archive", arch, "--to", "imap://bob*admin@"+dst.IMAPAddr, "--tls-ca", dst.CAFile, "--password-file", writeSecret(t, "admin-pw"))
	if !strings.Contains(out, "appended 12 (") {
		t.Errorf("import as bob*admin: %s", out)
	}
	if got := len(serverSums(t, dst, "bob")); got != 12 {
		t.Errorf("bob holds %d messages, want 12", got)
	}
}

// countingProxy forwards connections to target and remembers how many
// were open at once at the most.
type countingProxy struct {
	addr      string
	mu        sync.Mutex
	open, max int
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	p := &countingProxy{}
	p.addr = testserver.ServeTCP(t, func(c net.Conn) {
		s, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		p.mu.Lock()
		p.open++
		p.max = max(p.max, p.open)
		p.mu.Unlock()
		done := make(chan struct{}, 2)
		go func() { io.Copy(s, c); done <- struct{}{} }()
		go func() { io.Copy(c, s); done <- struct{}{} }()
		<-done
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
	})
	return p
}

func (p *countingProxy) most() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

// TestPerHostCap imports eight accounts into one server through a proxy
// that counts the connections open at once: with --per-host 1 no more than
// one account's connections (three: folders, reads, APPENDs) are ever
// open; with --parallel 4 and no cap, more are.
func TestPerHostCap(t *testing.T) {
	var srcUsers, dstUsers []testserver.User
	for i := range 8 {
		srcUsers = append(srcUsers, testserver.User{Name: fmt.Sprintf("s%d", i), Password: "pw"})
		dstUsers = append(dstUsers, testserver.User{Name: fmt.Sprintf("d%d", i), Password: "pw"}, testserver.User{Name: fmt.Sprintf("e%d", i), Password: "pw"})
	}
	src := testserver.StartDovecot(t, testserver.Options{Users: srcUsers})
	dst := testserver.StartDovecot(t, testserver.Options{Users: dstUsers})
	dir := t.TempDir()
	arch := filepath.Join(dir, "archive")
	pw := writeSecret(t, "pw")
	for i, u := range srcUsers {
		seedMailbox(t, src, u.Name, 40)
		runCLI(t, "export", "--from", "imap://"+u.Name+"@"+src.IMAPAddr, "--archive", arch, "--tls-ca", src.CAFile, "--password-file", pw, "--account", fmt.Sprintf("acct%d", i))
	}
	for _, tc := range []struct {
		prefix            string
		parallel, perHost string
		atMost, atLeast   int
	}{{"d", "4", "1", 3, 1}, {"e", "4", "0", 0, 4}} {
		proxy := startCountingProxy(t, dst.IMAPAddr)
		file := filepath.Join(dir, "accounts-"+tc.prefix+".csv")
		var b strings.Builder
		b.WriteString("account,destination,destination_user,destination_password_file\n")
		for i := range 8 {
			fmt.Fprintf(&b, "acct%d,imap://%s,%s%d,%s\n", i, proxy.addr, tc.prefix, i, pw)
		}
		os.WriteFile(file, []byte(b.String()), 0o600)
		if out, err := runCLIErr("import", "--archive", arch, "--accounts", file, "--parallel", tc.parallel, "--per-host", tc.perHost,
			"--max-messages-per-second", "200", "--tls-ca", dst.CAFile); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		m := proxy.most()
		t.Logf("--parallel %s --per-host %s: at most %d connections open at once", tc.parallel, tc.perHost, m)
		if (tc.atMost > 0 && m > tc.atMost) || m < tc.atLeast {
			t.Errorf("--parallel %s --per-host %s: at most %d connections open at once, want between %d and %d", tc.parallel, tc.perHost, m, tc.atLeast, tc.atMost)
		}
	}
}
