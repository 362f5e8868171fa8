package testserver

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

var (
	alice = User{Name: "alice", Password: "alice-secret"}
	bob   = User{Name: "bob", Password: "bob pass with spaces"}
	admin = User{Name: "admin", Password: "admin-secret"}
)

const crlfMessage = "From: Alice <alice@example.org>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: keywords and a Berlin date\r\n" +
	"Date: Thu, 04 Mar 2021 05:06:07 +0100\r\n" +
	"Message-ID: <crlf@example.org>\r\n" +
	"\r\n" +
	"Line one.\r\n" +
	"Line two, trailing spaces kept.   \r\n"

const lfMessage = "From: Bob <bob@example.org>\n" +
	"To: Alice <alice@example.org>\n" +
	"Subject: bare LF and a New York date\n" +
	"Message-ID: <lf@example.org>\n" +
	"\n" +
	"Only LF here.\n"

func TestDovecotAppendFetch(t *testing.T) {
	d := StartDovecot(t, Options{Users: []User{alice, bob}})
	berlin := time.FixedZone("CET", 1*60*60)
	newYork := time.FixedZone("EDT", -4*60*60)

	tests := []struct {
		name     string
		user     string
		folder   string
		msg      Message
		wantBody string
	}{
		{
			name:   "CRLF body comes back byte for byte",
			user:   alice.Name,
			folder: "INBOX",
			msg: Message{
				Body:  []byte(crlfMessage),
				Flags: []imap.Flag{imap.FlagSeen, "$Label1", "custom_keyword"},
				Date:  time.Date(2021, 3, 4, 5, 6, 7, 0, berlin),
			},
			wantBody: crlfMessage,
		},
		{
			name:   "bare LF is served as CRLF",
			user:   bob.Name,
			folder: "Archive/2020",
			msg: Message{
				Body:  []byte(lfMessage),
				Flags: []imap.Flag{imap.FlagFlagged, imap.FlagAnswered, "$Forwarded"},
				Date:  time.Date(2020, 7, 8, 23, 30, 0, 0, newYork),
			},
			wantBody: strings.ReplaceAll(lfMessage, "\n", "\r\n"),
		},
		{
			name:     "no flags and no date",
			user:     alice.Name,
			folder:   "Plain",
			msg:      Message{Body: []byte(crlfMessage)},
			wantBody: crlfMessage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			uids := d.Append(t, tt.user, tt.folder, tt.msg)
			if len(uids) != 1 || uids[0] == 0 {
				t.Fatalf("Append returned UIDs %v, want one non-zero UID", uids)
			}
			got := fetchByUID(t, d.Login(t, tt.user), tt.folder, uids[0])

			if body := messageBody(got); !bytes.Equal(body, []byte(tt.wantBody)) {
				t.Errorf("body:\n got %q\nwant %q", body, tt.wantBody)
			}
			if got.RFC822Size != int64(len(tt.wantBody)) {
				t.Errorf("RFC822.SIZE = %d, want %d", got.RFC822Size, len(tt.wantBody))
			}
			if flags := withoutRecent(got.Flags); !sameFlags(flags, tt.msg.Flags) {
				t.Errorf("flags = %v, want %v", flags, tt.msg.Flags)
			}
			// Maildir keeps INTERNALDATE as the file's mtime, so the
			// instant survives but the zone it was given in does not.
			if tt.msg.Date.IsZero() {
				if got.InternalDate.Before(before) {
					t.Errorf("INTERNALDATE = %v, want about now", got.InternalDate)
				}
			} else if !got.InternalDate.Equal(tt.msg.Date) {
				t.Errorf("INTERNALDATE = %v, want %v", got.InternalDate, tt.msg.Date)
			}
		})
	}

	t.Run("users are isolated", func(t *testing.T) {
		status, err := d.Login(t, bob.Name).Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if *status.NumMessages != 0 {
			t.Errorf("bob's INBOX has %d messages, want 0 (alice's must not leak)", *status.NumMessages)
		}
	})

	t.Run("Maildir and doveadm see the messages", func(t *testing.T) {
		// Dovecot files a message appended with flags under cur/, and
		// alice has one such message in INBOX.
		entries, err := os.ReadDir(d.MaildirPath(alice.Name) + "/cur")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Errorf("alice's INBOX cur/ has %d files, want 1", len(entries))
		}
		out := d.Doveadm(t, "mailbox", "status", "-u", alice.Name, "messages", "INBOX")
		if strings.TrimSpace(out) != "INBOX messages=1" {
			t.Errorf("doveadm mailbox status = %q, want %q", out, "INBOX messages=1")
		}
	})
}

func TestDovecotTLS(t *testing.T) {
	d := StartDovecot(t, Options{Users: []User{alice}})

	tests := []struct {
		name string
		dial func(addr string, opts *imapclient.Options) (*imapclient.Client, error)
		addr string
	}{
		{"IMAPS", imapclient.DialTLS, d.IMAPSAddr},
		{"STARTTLS", imapclient.DialStartTLS, d.IMAPAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.dial(tt.addr, &imapclient.Options{TLSConfig: d.TLSConfig()})
			if err != nil {
				t.Fatalf("dial with the test CA: %v", err)
			}
			defer c.Close()
			if err := c.Login(alice.Name, alice.Password).Wait(); err != nil {
				t.Fatalf("login: %v", err)
			}
			if err := c.Logout().Wait(); err != nil {
				t.Fatalf("logout: %v", err)
			}

			// The system roots must not trust the throwaway CA.
			if c, err := tt.dial(tt.addr, nil); err == nil {
				c.Close()
				t.Errorf("dial without the test CA succeeded, want a verification error")
			}
		})
	}
}

func TestDovecotMasterUser(t *testing.T) {
	d := StartDovecot(t, Options{Users: []User{alice}, Master: &admin})
	d.Append(t, alice.Name, "INBOX", Message{Body: []byte(crlfMessage)})

	tests := []struct {
		name  string
		login func(c *imapclient.Client) error
	}{
		{"SASL PLAIN with authzid", func(c *imapclient.Client) error {
			return c.Authenticate(sasl.NewPlainClient(alice.Name, admin.Name, admin.Password))
		}},
		{"LOGIN user*master", func(c *imapclient.Client) error {
			return c.Login(alice.Name+"*"+admin.Name, admin.Password).Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.IMAPAddr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := tt.login(c); err != nil {
				t.Fatalf("master login: %v\n%s", err, d.LogTail())
			}
			status, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
			if err != nil {
				t.Fatal(err)
			}
			if *status.NumMessages != 1 {
				t.Errorf("INBOX as seen by the master user has %d messages, want alice's 1", *status.NumMessages)
			}
		})
	}

	refused := []struct {
		name                 string
		authzid, authcid, pw string
	}{
		{"wrong master password", alice.Name, admin.Name, "wrong"},
		{"unknown target user", "nobody-here", admin.Name, admin.Password},
		{"ordinary user as master", admin.Name, alice.Name, alice.Password},
	}
	for _, tt := range refused {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.IMAPAddr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Authenticate(sasl.NewPlainClient(tt.authzid, tt.authcid, tt.pw)); err == nil {
				t.Error("login succeeded")
			}
		})
	}
}

func TestDovecotNamespaceLayouts(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		create    string // folder the test creates
		wantDelim rune
		wantAttrs map[string]imap.MailboxAttr // folder → special-use attribute
		wantNone  []string                    // folders that must not exist
	}{
		{
			name:      "default slash, special-use declared",
			opts:      Options{Users: []User{alice}, SpecialUse: SpecialUseDeclared},
			create:    "Sent",
			wantDelim: '/',
			wantAttrs: map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent},
			wantNone:  []string{"Drafts", "Trash", "Junk", "Archive"},
		},
		{
			name:      "INBOX. prefix, special-use created",
			opts:      Options{Users: []User{alice}, Prefix: "INBOX.", Separator: ".", SpecialUse: SpecialUseCreated},
			create:    "INBOX.Projects.2024",
			wantDelim: '.',
			wantAttrs: map[string]imap.MailboxAttr{
				"INBOX.Sent":    imap.MailboxAttrSent,
				"INBOX.Drafts":  imap.MailboxAttrDrafts,
				"INBOX.Trash":   imap.MailboxAttrTrash,
				"INBOX.Junk":    imap.MailboxAttrJunk,
				"INBOX.Archive": imap.MailboxAttrArchive,
			},
			wantNone: []string{"Sent"},
		},
		{
			name:      "no special-use",
			opts:      Options{Users: []User{alice}},
			create:    "Sent",
			wantDelim: '/',
			wantAttrs: map[string]imap.MailboxAttr{"Sent": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := StartDovecot(t, tt.opts)
			d.CreateFolder(t, alice.Name, tt.create, true)
			c := d.Login(t, alice.Name)
			folders := listAll(t, c)

			if _, ok := folders[tt.create]; !ok {
				t.Errorf("LIST lacks created folder %q; got %v", tt.create, keys(folders))
			}
			for _, l := range folders {
				if l.Delim != tt.wantDelim {
					t.Errorf("%s: delimiter %q, want %q", l.Mailbox, l.Delim, tt.wantDelim)
				}
			}
			for name, attr := range tt.wantAttrs {
				l, ok := folders[name]
				if !ok {
					t.Errorf("LIST lacks %q; got %v", name, keys(folders))
					continue
				}
				hasSpecialUse := false
				for _, a := range l.Attrs {
					switch a {
					case imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash, imap.MailboxAttrJunk, imap.MailboxAttrArchive:
						hasSpecialUse = true
						if a != attr {
							t.Errorf("%s: attribute %s, want %q", name, a, attr)
						}
					}
				}
				if attr != "" && !hasSpecialUse {
					t.Errorf("%s: attributes %v lack %s", name, l.Attrs, attr)
				}
			}
			for _, name := range tt.wantNone {
				if _, ok := folders[name]; ok {
					t.Errorf("LIST shows %q, which should not exist", name)
				}
			}
		})
	}
}

func TestDovecotTwoAtOnce(t *testing.T) {
	a := StartDovecot(t, Options{Users: []User{alice}})
	b := StartDovecot(t, Options{Users: []User{alice}, Prefix: "INBOX.", Separator: "."})
	if a.IMAPAddr == b.IMAPAddr || a.Dir == b.Dir {
		t.Fatalf("instances share an address or directory: %s %s, %s %s", a.IMAPAddr, b.IMAPAddr, a.Dir, b.Dir)
	}
	a.Append(t, alice.Name, "INBOX", Message{Body: []byte(crlfMessage)}, Message{Body: []byte(lfMessage)})
	b.Append(t, alice.Name, "INBOX", Message{Body: []byte(crlfMessage)})

	for _, tt := range []struct {
		d    *Dovecot
		want uint32
	}{{a, 2}, {b, 1}} {
		status, err := tt.d.Login(t, alice.Name).Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if *status.NumMessages != tt.want {
			t.Errorf("%s: INBOX has %d messages, want %d", tt.d.IMAPAddr, *status.NumMessages, tt.want)
		}
	}
}

func TestDovecotOptionsRejected(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no users", Options{}},
		{"prefix without separator", Options{Users: []User{alice}, Prefix: "INBOX", Separator: "."}},
		{"long separator", Options{Users: []User{alice}, Separator: "::"}},
	}
	for _, tt := range tests {
		if _, err := tt.opts.withDefaults(); err == nil {
			t.Errorf("%s: withDefaults accepted %+v", tt.name, tt.opts)
		}
	}
	for _, u := range []User{{"", "x"}, {"a/b", "x"}, {"a*b", "x"}, {"ok", "with:colon"}, {"ok", ""}} {
		if err := u.validate(); err == nil {
			t.Errorf("validate accepted %+v", u)
		}
	}
}

func keys(m map[string]*imap.ListData) []string {
	var names []string
	for name := range m {
		names = append(names, name)
	}
	return names
}

// TestDovecotRetriesTakenPort replaces pickAddrs, so it must not run in
// parallel with other Dovecot tests.
func TestDovecotRetriesTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	calls := 0
	pickAddrs = func(n int) ([]string, error) {
		calls++
		addrs, err := freeLoopbackAddrs(n)
		if calls == 1 && err == nil {
			addrs[n-1] = taken.Addr().String()
		}
		return addrs, err
	}
	t.Cleanup(func() { pickAddrs = freeLoopbackAddrs })

	d := StartDovecot(t, Options{Users: []User{alice}})
	if calls != 2 {
		t.Errorf("started after %d attempts, want 2", calls)
	}
	if !strings.Contains(readFileFrom(d.LogFile, 0), "Address already in use") {
		t.Errorf("log does not show the clash:\n%s", d.LogTail())
	}
	for _, addr := range []string{d.IMAPAddr, d.IMAPSAddr, d.POP3Addr, d.POP3SAddr} {
		if addr == taken.Addr().String() {
			t.Errorf("Dovecot reports the taken address %s", addr)
		}
	}
	d.Login(t, alice.Name)
}
