package testserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Options configures a private Dovecot.
type Options struct {
	// Users are the mail accounts; at least one.
	Users []User
	// Separator is the IMAP hierarchy separator, "/" if empty.
	Separator string
	// Prefix is the personal namespace prefix: empty, or ending in
	// Separator like "INBOX." for the Courier/Cyrus layout where every
	// folder lives below INBOX.
	Prefix string
	// Master, if set, may log in as any user: SASL PLAIN with authzid set
	// to the user and authcid to Master.Name, or LOGIN "user*master".
	Master *User
	// SpecialUse selects whether Sent, Drafts, Trash, Junk and Archive
	// carry RFC 6154 attributes and whether they exist from the start.
	SpecialUse SpecialUse
	// MaxMailSize, if set (Dovecot's size syntax: "100k"), makes the
	// quota plugin refuse any message larger: a server that answers NO
	// to one APPEND among others.
	MaxMailSize string
	// Capability, if set, replaces the capability list Dovecot announces
	// (imap_capability), to play a server without some extension: leave
	// out LITERAL+ for one that takes synchronizing literals only.
	Capability string
	// OAuth2 is the authorization server Dovecot asks whether an OAuth2
	// token is good (StartAuthServer); nil: no XOAUTH2 or OAUTHBEARER.
	OAuth2 *AuthServer
}

// SpecialUse says how a Dovecot declares the special-use folders Sent,
// Drafts, Trash, Junk and Archive (below Prefix).
type SpecialUse int

const (
	// NoSpecialUse declares none: LIST shows no special-use attributes.
	NoSpecialUse SpecialUse = iota
	// SpecialUseDeclared gives the folders their attributes but creates
	// none; a test creates those it wants (Dovecot's auto = no).
	SpecialUseDeclared
	// SpecialUseCreated also makes Dovecot create and subscribe all five
	// at a user's first login (auto = subscribe).
	SpecialUseCreated
)

// prefixPattern keeps namespace prefixes to what Dovecot's config parser
// takes literally.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// withDefaults fills in the separator and checks the namespace layout.
func (o Options) withDefaults() (Options, error) {
	if o.Separator == "" {
		o.Separator = "/"
	}
	if len(o.Separator) != 1 || strings.ContainsAny(o.Separator, " \t\"'#$%{}\\") {
		return o, fmt.Errorf("separator %q: want one punctuation character", o.Separator)
	}
	if o.Prefix != "" && (!strings.HasSuffix(o.Prefix, o.Separator) || !prefixPattern.MatchString(o.Prefix)) {
		return o, fmt.Errorf("prefix %q: want letters and digits ending in the separator %q", o.Prefix, o.Separator)
	}
	if len(o.Users) == 0 {
		return o, fmt.Errorf("no users")
	}
	if o.SpecialUse < NoSpecialUse || o.SpecialUse > SpecialUseCreated {
		return o, fmt.Errorf("unknown SpecialUse %d", o.SpecialUse)
	}
	return o, nil
}

// Dovecot is a private Dovecot serving IMAP and POP3 on 127.0.0.1, started by
// StartDovecot and stopped when the test ends.
type Dovecot struct {
	IMAPAddr   string // IMAP without TLS; STARTTLS offered
	IMAPSAddr  string // IMAP over implicit TLS
	POP3Addr   string // POP3 without TLS; STLS offered
	POP3SAddr  string // POP3 over implicit TLS
	CAFile     string // PEM certificate of the CA that signed the server's certificate
	Dir        string // holds the config, the log, TLS files and the users' homes
	ConfigFile string // for `doveadm -c`; see Doveadm
	LogFile    string // Dovecot's log; start failures quote its tail

	opts      Options
	passwords accounts
	caPool    *x509.CertPool
	doveadm   string
	proc      *serverProcess
}

// StartDovecot starts a private Dovecot for the test and stops it in
// t.Cleanup. It skips the test if Dovecot is not installed, unless CI=true
// (see RequireBinary).
func StartDovecot(t testing.TB, opts Options) *Dovecot {
	t.Helper()
	dovecotBin := RequireBinary(t, "dovecot")
	doveadmBin := RequireBinary(t, "doveadm")

	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatalf("testserver: dovecot options: %v", err)
	}
	passwords, err := newAccounts(opts.Users)
	if err != nil {
		t.Fatalf("testserver: dovecot users: %v", err)
	}
	if opts.Master != nil {
		if err := opts.Master.validate(); err != nil {
			t.Fatalf("testserver: dovecot master user: %v", err)
		}
		if _, clash := passwords[opts.Master.Name]; clash {
			t.Fatalf("testserver: master user %s is also an ordinary user", opts.Master.Name)
		}
	}
	who, err := lookupRunAs()
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}

	dir := serverDir(t, who.Root)
	d := &Dovecot{
		Dir:        dir,
		ConfigFile: filepath.Join(dir, "dovecot.conf"),
		LogFile:    filepath.Join(dir, "dovecot.log"),
		opts:       opts,
		passwords:  passwords,
		doveadm:    doveadmBin,
	}
	cfg, err := d.prepareFiles(who)
	if err != nil {
		t.Fatalf("testserver: prepare dovecot: %v", err)
	}
	d.startWithRetry(t, dovecotBin, cfg)
	return d
}

// prepareFiles writes everything but the config, which depends on the ports
// each start attempt picks.
func (d *Dovecot) prepareFiles(who runAs) (dovecotConfig, error) {
	tlsDir := filepath.Join(d.Dir, "tls")
	if err := os.Mkdir(tlsDir, 0o755); err != nil {
		return dovecotConfig{}, err
	}
	files, err := writeTLSFiles(tlsDir)
	if err != nil {
		return dovecotConfig{}, err
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		return dovecotConfig{}, err
	}
	d.caPool = x509.NewCertPool()
	if !d.caPool.AppendCertsFromPEM(caPEM) {
		return dovecotConfig{}, fmt.Errorf("no certificate in %s", files.CA)
	}
	d.CAFile = files.CA

	cfg := dovecotConfig{
		RunDir:      filepath.Join(d.Dir, "run"),
		StateDir:    filepath.Join(d.Dir, "state"),
		LogFile:     d.LogFile,
		TLS:         files,
		PasswdFile:  filepath.Join(d.Dir, "users.passwd"),
		RunAs:       who,
		Prefix:      d.opts.Prefix,
		Separator:   d.opts.Separator,
		MaxMailSize: d.opts.MaxMailSize,
		Capability:  d.opts.Capability,
	}
	if d.opts.OAuth2 != nil {
		cfg.OAuth2File = filepath.Join(d.Dir, "oauth2.conf.ext")
		if err := d.opts.OAuth2.writeConfig(cfg.OAuth2File); err != nil {
			return dovecotConfig{}, err
		}
	}
	switch d.opts.SpecialUse {
	case SpecialUseDeclared:
		cfg.SpecialUseAuto, cfg.SpecialUseFolders = "no", specialUseFolders
	case SpecialUseCreated:
		cfg.SpecialUseAuto, cfg.SpecialUseFolders = "subscribe", specialUseFolders
	}

	if err := os.Mkdir(filepath.Join(d.Dir, "home"), 0o755); err != nil {
		return cfg, err
	}
	var passwd strings.Builder
	for _, u := range d.opts.Users {
		home := filepath.Join(d.Dir, "home", u.Name)
		if err := makeMaildir(home, d.MaildirPath(u.Name), who); err != nil {
			return cfg, fmt.Errorf("home of %s: %w", u.Name, err)
		}
		// user:password:uid:gid:gecos:home:shell:extra
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s:%d:%d::%s::\n", u.Name, u.Password, who.MailUID, who.MailGID, home)
	}
	// 0644: the auth process reads it as default_internal_user. The
	// passwords are throwaway test secrets.
	if err := os.WriteFile(cfg.PasswdFile, []byte(passwd.String()), 0o644); err != nil {
		return cfg, err
	}
	if m := d.opts.Master; m != nil {
		cfg.MasterFile = filepath.Join(d.Dir, "master.passwd")
		line := fmt.Sprintf("%s:{PLAIN}%s\n", m.Name, m.Password)
		if err := os.WriteFile(cfg.MasterFile, []byte(line), 0o644); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// makeMaildir creates home and an empty Maildir in it, owned by the mail
// user, so tests can look at (or drop files into) the Maildir before anyone
// logs in.
func makeMaildir(home, maildir string, who runAs) error {
	dirs := []string{home, maildir}
	for _, sub := range []string{"cur", "new", "tmp"} {
		dirs = append(dirs, filepath.Join(maildir, sub))
	}
	for _, dir := range dirs {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chown(dir, who.MailUID, who.MailGID); err != nil {
			return err
		}
	}
	return nil
}

// MaildirPath returns the root Maildir of user (INBOX's cur, new and tmp are
// directly inside). Files put there must belong to the mail user, which is
// nobody when tests run as root.
func (d *Dovecot) MaildirPath(user string) string {
	return filepath.Join(d.Dir, "home", user, "Maildir")
}

// TLSConfig returns a fresh client configuration that trusts only this
// server's CA, for IMAPS, STARTTLS, POP3S and STLS.
func (d *Dovecot) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: d.caPool, ServerName: "127.0.0.1"}
}

// Login dials IMAPAddr without TLS, logs in as user and closes the
// connection when the test ends.
func (d *Dovecot) Login(t testing.TB, user string) *imapclient.Client {
	t.Helper()
	return loginForTest(t, d.IMAPAddr, user, d.passwords.password(t, user))
}

// Append appends msgs to folder of user over IMAP, creating the folder if
// it is missing, and returns the UIDs Dovecot assigned.
func (d *Dovecot) Append(t testing.TB, user, folder string, msgs ...Message) []imap.UID {
	t.Helper()
	var uids []imap.UID
	err := withSession(d.IMAPAddr, user, d.passwords.password(t, user), func(c *imapclient.Client) (err error) {
		uids, err = appendMessages(c, folder, msgs)
		return err
	})
	if err != nil {
		t.Fatalf("testserver: dovecot append for %s: %v\n%s", user, err, d.LogTail())
	}
	return uids
}

// CreateFolder creates folder name (the full IMAP name, prefix included) for
// user over IMAP; an existing folder is fine.
func (d *Dovecot) CreateFolder(t testing.TB, user, name string, subscribe bool) {
	t.Helper()
	err := withSession(d.IMAPAddr, user, d.passwords.password(t, user), func(c *imapclient.Client) error {
		return createFolder(c, name, subscribe)
	})
	if err != nil {
		t.Fatalf("testserver: dovecot create folder for %s: %v\n%s", user, err, d.LogTail())
	}
}
