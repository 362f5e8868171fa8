package mailconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/testserver"
)

// dialAppender logs alice in on an Appender at addr (with password "pw"
// unless opts says otherwise), closed when the test ends.
func dialAppender(t *testing.T, addr string, opts Options) *Appender {
	t.Helper()
	if opts.Password.Env == "" {
		opts.Password = passwordEnv(t, "pw")
	}
	d, err := NewDialer(mustEndpoint(t, "imap://alice@"+addr), opts)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.DialAppender(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestAppenderPipelines appends several messages before reading any answer
// (LITERAL+), over STARTTLS and as an admin on behalf of a user, and reads
// them back byte for byte with their flags, dates and APPENDUIDs; a NO for
// one message does not disturb the others. Each APPEND is preceded by a
// pipelined SELECT of its mailbox: the untagged answers of a selected
// mailbox and a refused SELECT (of a missing mailbox) must not disturb the
// results either.
func TestAppenderPipelines(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice, bob}, Master: &admin})
	d.CreateFolder(t, alice.Name, "Entwürfe & Q", true)
	for _, tc := range []struct {
		name, password, authUser string
	}{
		{"login", alice.Password, ""},
		{"admin", admin.Password, admin.Name},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := dialAppender(t, d.IMAPAddr, Options{Password: passwordEnv(t, tc.password), TLS: TLSOptions{CAFile: d.CAFile}, AuthUser: tc.authUser})
			zone := time.FixedZone("", -5*3600)
			var bodies []string
			for i := range 5 {
				body := fmt.Sprintf("Subject: %s %d\r\n\r\n%s\r\n", tc.name, i, strings.Repeat("x", 3000*i+10))
				bodies = append(bodies, body)
				folder := "Entwürfe & Q"
				if i == 2 {
					folder = "No such folder"
				}
				a.Select(folder)
				if err := a.Append(folder, []string{`\Seen`, "$label1"}, time.Date(2020, 1, 2, 3, 4, 5, 0, zone), false, int64(len(body)), strings.NewReader(body)); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			if n := a.Pending(); n != 5 {
				t.Errorf("%d APPENDs pending, want 5", n)
			}
			var uids []imap.UID
			for i := range 5 {
				res, err := a.Result()
				var ce *CommandError
				if i == 2 {
					if !errors.As(err, &ce) || ce.Status != "NO" {
						t.Errorf("append %d into a missing folder: %v", i, err)
					}
					continue
				}
				if err != nil || len(res.UIDs) != 1 || res.UIDs[0] == 0 || res.UIDValidity == 0 {
					t.Fatalf("append %d: %+v %v", i, res, err)
				}
				uids = append(uids, imap.UID(res.UIDs[0]))
			}
			c := d.Login(t, alice.Name)
			if _, err := c.Select("Entwürfe & Q", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			msgs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
				BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err != nil || len(msgs) != 4 {
				t.Fatalf("%d messages, %v", len(msgs), err)
			}
			want := map[string]bool{}
			for i, b := range bodies {
				if i != 2 {
					want[format.Sum([]byte(b)).String()] = true
				}
			}
			for _, m := range msgs {
				if !want[format.Sum(m.FindBodySection(&imap.FetchItemBodySection{})).String()] {
					t.Errorf("uid %d: bytes differ", m.UID)
				}
				var flags []string
				for _, f := range m.Flags {
					flags = append(flags, string(f))
				}
				if !m.InternalDate.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, zone)) || len(format.NormalizeFlags(flags)) != 2 {
					t.Errorf("uid %d: date %v flags %v", m.UID, m.InternalDate, m.Flags)
				}
			}
		})
	}
}

// TestAppenderMultiAppend sends several messages in one APPEND (RFC 3502):
// they land together with their UIDs in order, and one the server cannot
// take (too large for its limit) fails the whole command, leaving nothing.
func TestAppenderMultiAppend(t *testing.T) {
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice}})
	a := dialAppender(t, d.IMAPAddr, Options{Password: passwordEnv(t, alice.Password), TLS: TLSOptions{CAFile: d.CAFile}})
	if !a.MultiAppend() {
		t.Fatal("Dovecot offers MULTIAPPEND; the Appender did not see it")
	}
	date := time.Date(2021, 6, 7, 8, 9, 10, 0, time.FixedZone("", 2*3600))
	send := func(bodies []string, bad int) {
		a.Select("INBOX")
		a.BeginAppend("INBOX")
		for i, b := range bodies {
			flags := []string{`\Seen`}
			if i == bad {
				flags = []string{`\Seen`, "bad(keyword"}
			}
			if err := a.AppendMessage(flags, date, false, int64(len(b)), strings.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.EndAppend(); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var bodies []string
	for i := range 4 {
		bodies = append(bodies, fmt.Sprintf("Subject: multi %d\r\n\r\n%s\r\n", i, strings.Repeat("y", 5000*i)))
	}
	send(bodies, -1)
	res, err := a.Result()
	if err != nil || len(res.UIDs) != 4 {
		t.Fatalf("MULTIAPPEND of 4: %+v %v", res, err)
	}
	send([]string{"Subject: x\r\n\r\nx\r\n", "Subject: y\r\n\r\ny\r\n"}, 1)
	var ce *CommandError
	if _, err := a.Result(); !errors.As(err, &ce) {
		t.Fatalf("MULTIAPPEND with a bad message: %v, want NO or BAD", err)
	}
	got := d.Messages(t, alice.Name)
	if len(got) != 4 {
		t.Fatalf("%d messages in the account, want the 4 of the first APPEND", len(got))
	}
	c := d.Login(t, alice.Name)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i, uid := range res.UIDs {
		msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{InternalDate: true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("uid %d: %v", uid, err)
		}
		if string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})) != bodies[i] || !msgs[0].InternalDate.Equal(date) {
			t.Errorf("uid %d is not message %d, or its date %v is wrong", uid, i, msgs[0].InternalDate)
		}
	}
}

func TestUIDSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint32
		bad  bool
	}{
		{in: "7", want: []uint32{7}},
		{in: "101:104", want: []uint32{101, 102, 103, 104}},
		{in: "5,9:10,12", want: []uint32{5, 9, 10, 12}},
		{in: "10:9", want: []uint32{9, 10}},
		{in: "0", bad: true},
		{in: "1:*", bad: true},
		{in: "x", bad: true},
		{in: "1:4000000000", bad: true},
	} {
		got, err := uidSet(tc.in)
		if tc.bad != (err != nil) || fmt.Sprint(got) != fmt.Sprint(tc.want) && !tc.bad {
			t.Errorf("uidSet(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// TestAppenderDovecotLiterals appends to Dovecot as it is (LITERAL+),
// without LITERAL+ (synchronizing literals only) and with LITERAL-
// instead: single messages and a MULTIAPPEND group land byte for byte
// (SHA-256 of BODY[] against what was sent), one over Dovecot's size
// limit gets its NO in order while the others land (refused before its
// bytes where its literal is synchronizing), and a message with NUL bytes
// is accepted as a binary literal.
func TestAppenderDovecotLiterals(t *testing.T) {
	// Dovecot 2.3's own list, shortened, without LITERAL+.
	const synchronizing = "IMAP4rev1 SASL-IR ID ENABLE IDLE MULTIAPPEND UNSELECT NAMESPACE UIDPLUS BINARY MOVE"
	groups := []struct {
		sizes           []int
		binary, refused bool
	}{
		{sizes: []int{200}},
		{sizes: []int{5000}},
		{sizes: []int{150 << 10}, refused: true},
		{sizes: []int{60 << 10}},
		{sizes: []int{300, 9000, 4000}},
		{sizes: []int{500}, binary: true},
	}
	for _, tc := range []struct {
		name, capability string
		literalPlus      bool
	}{
		{"LITERAL+", "", true},
		{"synchronizing", synchronizing, false},
		{"LITERAL-", synchronizing + " LITERAL-", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{alice}, Capability: tc.capability, MaxMailSize: "100k"})
			a := dialAppender(t, d.IMAPAddr, Options{Password: passwordEnv(t, alice.Password), TLS: TLSOptions{CAFile: d.CAFile}})
			if a.LiteralPlus() != tc.literalPlus || !a.Binary() || !a.MultiAppend() {
				t.Fatalf("LiteralPlus %v, Binary %v, MultiAppend %v", a.LiteralPlus(), a.Binary(), a.MultiAppend())
			}
			var sent [][][]byte
			n := 0
			for _, g := range groups {
				a.Select("INBOX")
				a.BeginAppend("INBOX")
				var bodies [][]byte
				for _, size := range g.sizes {
					body := fakeMessage(n, size)
					n++
					if g.binary {
						body[size-10] = 0
					}
					bodies = append(bodies, body)
					err := a.AppendMessage([]string{`\Flagged`}, appendDate, g.binary, int64(size), bytes.NewReader(body))
					if refusal := g.refused && !tc.literalPlus; refusal != errors.Is(err, ErrLiteralRefused) || err != nil && !refusal {
						t.Fatalf("message %d: AppendMessage: %v", n-1, err)
					}
				}
				if err := a.EndAppend(); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, bodies)
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			want := map[imap.UID]format.ID{}
			var binaryUID imap.UID
			for i, g := range groups {
				res, err := a.Result()
				var ce *CommandError
				if g.refused {
					if !errors.As(err, &ce) || ce.Status != "NO" {
						t.Errorf("group %d over the size limit: %v, want NO", i, err)
					}
					continue
				}
				if err != nil || len(res.UIDs) != len(g.sizes) {
					t.Fatalf("group %d: %+v %v", i, res, err)
				}
				for k, uid := range res.UIDs {
					want[imap.UID(uid)] = format.Sum(sent[i][k])
				}
				if g.binary {
					binaryUID = imap.UID(res.UIDs[0])
				}
			}
			got := d.Messages(t, alice.Name)
			if len(got) != len(want) {
				t.Errorf("%d messages in the account, want %d", len(got), len(want))
			}
			for _, m := range got {
				// BODY[] cannot carry NUL; BINARY[] below can.
				if w, ok := want[m.UID]; m.UID != binaryUID && (!ok || m.Sum != w) {
					t.Errorf("uid %d: bytes differ from those sent", m.UID)
				}
			}
			c := d.Login(t, alice.Name)
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			section := &imap.FetchItemBinarySection{Peek: true}
			msgs, err := c.Fetch(imap.UIDSetNum(binaryUID), &imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{section}}).Collect()
			if err != nil || len(msgs) != 1 || format.Sum(msgs[0].FindBinarySection(section)) != want[binaryUID] {
				t.Errorf("message with NUL (uid %d): BINARY[] differs from what was sent (%v)", binaryUID, err)
			}
		})
	}
}
