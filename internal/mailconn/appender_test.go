package mailconn

import (
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
			opts := Options{Password: passwordEnv(t, tc.password), TLS: TLSOptions{CAFile: d.CAFile}, AuthUser: tc.authUser}
			dl, err := NewDialer(mustEndpoint(t, "imap://alice@"+d.IMAPAddr), opts)
			if err != nil {
				t.Fatal(err)
			}
			a, err := dl.DialAppender(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
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
				if err := a.Append(folder, []string{`\Seen`, "$label1"}, time.Date(2020, 1, 2, 3, 4, 5, 0, zone), int64(len(body)), strings.NewReader(body)); err != nil {
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
				if err != nil || res.UID == 0 || res.UIDValidity == 0 {
					t.Fatalf("append %d: %+v %v", i, res, err)
				}
				uids = append(uids, imap.UID(res.UID))
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
