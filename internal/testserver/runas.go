package testserver

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// runAs holds the system identities a private Dovecot uses.
type runAs struct {
	Root          bool // Dovecot runs as root and can drop privileges
	MailUID       int  // owner of mail processes and Maildirs
	MailGID       int
	InternalUser  string // default_internal_user: auth, stats, anvil
	InternalGroup string // default_internal_group: owns their sockets
	LoginUser     string // default_login_user: imap-login, pop3-login
}

// lookupRunAs picks the identities. As root, Dovecot refuses to run mail
// processes as root, so mail belongs to nobody/nogroup and the service users
// are the ones the Debian package creates. As anyone else, Dovecot can only
// run everything as the current user.
func lookupRunAs() (runAs, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return runAs{}, fmt.Errorf("look up current user: %w", err)
		}
		g, err := user.LookupGroupId(strconv.Itoa(os.Getegid()))
		if err != nil {
			return runAs{}, fmt.Errorf("look up current group: %w", err)
		}
		return runAs{
			MailUID:       os.Geteuid(),
			MailGID:       os.Getegid(),
			InternalUser:  u.Username,
			InternalGroup: g.Name,
			LoginUser:     u.Username,
		}, nil
	}

	nobody, err := user.Lookup("nobody")
	if err != nil {
		return runAs{}, fmt.Errorf("look up mail user nobody: %w", err)
	}
	uid, err := strconv.Atoi(nobody.Uid)
	if err != nil {
		return runAs{}, fmt.Errorf("uid of nobody %q: %w", nobody.Uid, err)
	}
	// Debian calls nobody's group nogroup; other systems use nobody's
	// primary group.
	gidText := nobody.Gid
	if g, err := user.LookupGroup("nogroup"); err == nil {
		gidText = g.Gid
	}
	gid, err := strconv.Atoi(gidText)
	if err != nil {
		return runAs{}, fmt.Errorf("gid of nogroup %q: %w", gidText, err)
	}
	for _, name := range []string{"dovecot", "dovenull"} {
		if _, err := user.Lookup(name); err != nil {
			return runAs{}, fmt.Errorf("look up system user %s (created by the dovecot-core package): %w", name, err)
		}
	}
	return runAs{
		Root:          true,
		MailUID:       uid,
		MailGID:       gid,
		InternalUser:  "dovecot",
		InternalGroup: "dovecot",
		LoginUser:     "dovenull",
	}, nil
}
