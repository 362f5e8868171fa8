package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/testserver"
)

// TestServerOfBothRevisions exports from and imports into a server that
// announces IMAP4rev1 and IMAP4rev2 (Cyrus 3.8, Stalwart), stood in for by
// Dovecot behind a proxy adding IMAP4rev2 to its capabilities: such a
// server takes modified UTF-7 folder names until a client enables
// IMAP4rev2, and go-imap sent it UTF-8 ones, so every folder with a
// non-ASCII name failed. Export, import and verify now move every message
// of "Entwürfe" and "Öffentlich/Ünter" like any other.
func TestServerOfBothRevisions(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}, {Name: "bob", Password: "bob-pw"}}})
	seedMailbox(t, d, "ann", 20)
	d.CreateFolder(t, "ann", "Öffentlich/Ünter", true)
	d.Append(t, "ann", "Entwürfe", testserver.Message{Body: []byte("Subject: Entwurf\r\n\r\nnoch nicht\r\n")})
	d.Append(t, "ann", "Öffentlich/Ünter", testserver.Message{Body: []byte("Subject: unten\r\n\r\nganz unten\r\n")})
	proxy := testserver.StartThrottleProxy(t, d.IMAPAddr, "NO-SUCH-COMMAND", 0, 0)
	proxy.Advertise("IMAP4rev2")

	arch := t.TempDir()
	if out, err := runCLIErr("export", "--from", "imap://ann@"+proxy.Addr, "--archive", arch, "--account", "ann", "--password-file", writeSecret(t, "ann-pw")); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	want := serverSums(t, d, "ann")
	got := archiveSums(t, arch, "ann")
	if !slices.Equal(got, want) {
		t.Fatalf("archive holds\n%s\nthe server\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	bobPW := writeSecret(t, "bob-pw")
	if out, err := runCLIErr("import", "--archive", arch, "--account", "ann", "--to", "imap://bob@"+proxy.Addr, "--password-file", bobPW); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := runCLIErr("verify", "--archive", arch, "--account", "ann", "--to", "imap://bob@"+proxy.Addr, "--password-file", bobPW); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// Bob's folders, read directly, carry the names Ann's had.
	var folders []string
	for _, s := range serverSums(t, d, "bob") {
		folders = append(folders, strings.SplitN(s, "/", 2)[0])
	}
	for _, name := range []string{"Entwürfe", "Öffentlich"} {
		if !slices.Contains(folders, name) {
			t.Errorf("bob has no messages in %q: %q", name, slices.Compact(folders))
		}
	}
}
