package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/testserver"
)

// TestImportBytesTheServerCanTake imports, from a Maildir, a message with
// bare LF line ends and one with a NUL byte: into a Dovecot with BINARY both
// land (the first with CRLF line ends, the second byte for byte in a
// binary literal) and verify passes; into one without BINARY the NUL
// message is reported with the reason and the others land (exit 3).
func TestImportBytesTheServerCanTake(t *testing.T) {
	msgs := map[string][]byte{
		"1.crlf": []byte("From: a@example.org\r\nSubject: crlf\r\nMessage-ID: <crlf@x>\r\n\r\nplain\r\n"),
		"2.lf":   []byte("From: a@example.org\nSubject: bare lf\nMessage-ID: <lf@x>\n\nline one\nline two\n"),
		"3.nul":  []byte("From: a@example.org\r\nSubject: nul\r\nMessage-ID: <nul@x>\r\n\r\nbefore\x00after\r\n"),
	}
	root := filepath.Join(t.TempDir(), "Maildir")
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(root, d), 0o700)
	}
	for name, b := range msgs {
		if err := os.WriteFile(filepath.Join(root, "cur", "170000000"+name[:1]+".M1P1."+name[2:]+".host:2,S"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "maildir:"+root, "--archive", arch, "--account", "alice")

	const withoutBinary = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED ESEARCH SPECIAL-USE"
	for _, tc := range []struct {
		name       string
		capability string
	}{{"BINARY", ""}, {"no BINARY", withoutBinary}} {
		t.Run(tc.name, func(t *testing.T) {
			dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "bob", Password: "b-pw"}}, Capability: tc.capability})
			pw := writeSecret(t, "b-pw")
			to := []string{"--archive", arch, "--to", "imap://bob@" + dst.IMAPAddr, "--tls-ca", dst.CAFile, "--password-file", pw}
			out, err := runCLIErr(append([]string{"import"}, to...)...)
			c := dst.Login(t, "bob")
			if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				t.Fatal(err)
			}
			got, ferr := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{
				BodySection: []*imap.FetchItemBodySection{{Peek: true}}, BinarySection: []*imap.FetchItemBinarySection{{Peek: true}}}).Collect()
			if ferr != nil {
				t.Fatal(ferr)
			}
			sums := map[format.ID]bool{}
			for _, m := range got {
				sums[format.Sum(m.FindBodySection(&imap.FetchItemBodySection{}))] = true
				sums[format.Sum(m.FindBinarySection(&imap.FetchItemBinarySection{}))] = true
			}
			crlf := bytes.ReplaceAll(msgs["2.lf"], []byte("\n"), []byte("\r\n"))
			if !sums[format.Sum(msgs["1.crlf"])] || !sums[format.Sum(crlf)] {
				t.Errorf("the CRLF message or the bare-LF one (as CRLF) is not on the destination: %s", out)
			}
			if !strings.Contains(out, "transformed 1: crlf") {
				t.Errorf("the report does not count the line-end change:\n%s", out)
			}
			if tc.capability == "" {
				if err != nil || len(got) != 3 || !sums[format.Sum(msgs["3.nul"])] {
					t.Fatalf("import into a server with BINARY: %v, %d messages, NUL message there %v\n%s", err, len(got), sums[format.Sum(msgs["3.nul"])], out)
				}
				reportFile := filepath.Join(t.TempDir(), "verify.json")
				if v, err := runCLIErr(append([]string{"verify", "--report", reportFile}, to...)...); err != nil {
					t.Errorf("verify: %v\n%s", err, v)
				}
				var vr struct {
					Folders []struct {
						Folder   string `json:"folder"`
						Verified int    `json:"verified"`
					} `json:"folders"`
				}
				if b, err := os.ReadFile(reportFile); err != nil || json.Unmarshal(b, &vr) != nil || len(vr.Folders) != 1 || vr.Folders[0].Verified != 3 {
					t.Errorf("verify --report: %v %+v", err, vr)
				}
				// verify's exit statuses: 1 when the destination differs,
				// 4 when it could not check (here: a manifest that records
				// no import).
				dst.Doveadm(t, "expunge", "-u", "bob", "mailbox", "INBOX", "uid", "1")
				v, err := runCLIErr(append([]string{"verify"}, to...)...)
				if exitCodeOf(err) != 1 || !strings.Contains(v, "MISSING") {
					t.Errorf("verify after a message was expunged: exit %d\n%s", exitCodeOf(err), v)
				}
				if _, err := runCLIErr("verify", "--archive", arch); exitCodeOf(err) != 2 {
					t.Errorf("verify without --to: exit %d, want 2 (usage)", exitCodeOf(err))
				}
				v, err = runCLIErr(append([]string{"verify", "--manifest", filepath.Join(t.TempDir(), "empty.jsonl")}, to...)...)
				if exitCodeOf(err) != 4 || !strings.Contains(err.Error(), "could not check") {
					t.Errorf("verify without a recorded import: exit %d\n%s", exitCodeOf(err), v)
				}
				return
			}
			if exitCodeOf(err) != 3 || len(got) != 2 || !strings.Contains(out, "NUL bytes") || !strings.Contains(out, "no BINARY") {
				t.Errorf("import into a server without BINARY: exit %d, %d messages\n%s", exitCodeOf(err), len(got), out)
			}
		})
	}
}

// TestImportManifestPerDestination imports one archive, with the default
// manifests, into users a_b and a=b of one server (whose names become the
// same file-name characters) and into a_b again under the name
// "localhost": both users get every message, and the second name appends
// nothing twice.
func TestImportManifestPerDestination(t *testing.T) {
	src := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "carol", Password: "carol-pw"}}})
	dst := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "a_b", Password: "pw-1"}, {Name: "a=b", Password: "pw-2"}}})
	seedMailbox(t, src, "carol", 30)
	arch := filepath.Join(t.TempDir(), "archive")
	runCLI(t, "export", "--from", "imap://carol@"+src.IMAPAddr, "--archive", arch, "--tls-ca", src.CAFile, "--password-file", writeSecret(t, "carol-pw"))
	imp := func(user, host, pw string) string {
		return runCLI(t, "import", "--archive", arch, "--to", "imap://"+user+"@"+host, "--tls-ca", dst.CAFile, "--password-file", writeSecret(t, pw))
	}
	for _, u := range []struct{ name, pw string }{{"a_b", "pw-1"}, {"a=b", "pw-2"}} {
		if out := imp(u.name, dst.IMAPAddr, u.pw); !strings.Contains(out, "appended 30 (") {
			t.Errorf("import into %s: %s", u.name, out)
		}
		if n := len(dst.Messages(t, u.name)); n != 30 {
			t.Errorf("%s holds %d messages, want 30", u.name, n)
		}
	}
	localhost := strings.Replace(dst.IMAPAddr, "127.0.0.1", "localhost", 1)
	if out := imp("a_b", localhost, "pw-1"); !strings.Contains(out, "appended 0 (") || !strings.Contains(out, "duplicates skipped 30") {
		t.Errorf("import into a_b as localhost: %s", out)
	}
	if n := len(dst.Messages(t, "a_b")); n != 30 {
		t.Errorf("a_b holds %d messages after the import as localhost, want 30", n)
	}
	manifests, _ := filepath.Glob(filepath.Join(arch, "manifests", "*"))
	if len(manifests) != 3 {
		t.Errorf("manifests %q, want one per destination (3)", manifests)
	}
}
