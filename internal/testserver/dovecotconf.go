package testserver

import (
	"bytes"
	"fmt"
	"os"
	"text/template"
)

// dovecotConfig is everything the configuration template needs.
type dovecotConfig struct {
	RunDir, StateDir, LogFile string
	TLS                       tlsFiles
	PasswdFile, MasterFile    string // MasterFile is empty without a master user
	RunAs                     runAs
	Prefix, Separator         string
	SpecialUseAuto            string // "no" or "subscribe"; empty: no special-use folders
	SpecialUseFolders         []specialUseFolder
	IMAPPort, IMAPSPort       string
	POP3Port, POP3SPort       string
	MaxMailSize               string // empty: no quota plugin
	Capability                string // empty: Dovecot's own list
	// OAuth2File is the oauth2 passdb's settings (token introspection);
	// empty: no OAuth2 sign-in.
	OAuth2File string
}

// specialUseFolder is a folder that Dovecot flags with a RFC 6154 attribute.
type specialUseFolder struct{ Name, Attr string }

// specialUseFolders are the folders every common client knows by name.
var specialUseFolders = []specialUseFolder{
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// dovecotTemplate is a complete configuration: with -c Dovecot reads nothing
// from /etc/dovecot. Settings not listed keep Dovecot's defaults so tests
// meet the limits (imap_max_line_length, mail_max_userip_connections = 10)
// that real servers have.
var dovecotTemplate = template.Must(template.New("dovecot.conf").Parse(`# Private Dovecot for one mailferry test; written by internal/testserver.
base_dir = {{.RunDir}}
state_dir = {{.StateDir}}
log_path = {{.LogFile}}
info_log_path = {{.LogFile}}

protocols = imap pop3
listen = 127.0.0.1
default_internal_user = {{.RunAs.InternalUser}}
default_internal_group = {{.RunAs.InternalGroup}}
default_login_user = {{.RunAs.LoginUser}}
first_valid_uid = {{.RunAs.MailUID}}
first_valid_gid = {{.RunAs.MailGID}}

ssl = yes
ssl_cert = <{{.TLS.Cert}}
ssl_key = <{{.TLS.Key}}
ssl_min_protocol = TLSv1.2

# Tests log in over plain loopback too; loopback counts as secured anyway.
disable_plaintext_auth = no
# apop makes pop3-login put a timestamp in its greeting; it needs the
# plaintext passwords the passwd-file holds.
auth_mechanisms = plain login apop{{if .OAuth2File}} xoauth2 oauthbearer{{end}}
# LOGIN "user*admin" is the master-user form for clients without SASL PLAIN.
auth_master_user_separator = *
# Tests of wrong passwords: a failed login then takes about 0.5 s (the
# login process's own pause) instead of 2.5 s.
auth_failure_delay = 0
auth_verbose = yes
# Any character in a user name: tests use names like a=b.
auth_username_chars =

mail_location = maildir:~/Maildir
# A test server does not have to survive a power cut.
mail_fsync = never
pop3_uidl_format = %08Xu%08Xv
{{- if .Capability}}
imap_capability = {{.Capability}}
{{- end}}
{{- if .MaxMailSize}}
mail_plugins = $mail_plugins quota
plugin {
  # No limit on the mailbox, only on each message.
  quota = maildir:User quota
  quota_max_mail_size = {{.MaxMailSize}}
}
{{- end}}
{{if .OAuth2File}}
# SASL XOAUTH2 and OAUTHBEARER: the token is checked by the introspection
# URL in OAuth2File, a server in the test process.
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {{.OAuth2File}}
}
{{- end}}
{{if .MasterFile}}
passdb {
  driver = passwd-file
  args = {{.MasterFile}}
  master = yes
  # Also look the target user up, so a master login to a nonexistent user fails.
  pass = yes
}
{{- end}}
passdb {
  driver = passwd-file
  args = {{.PasswdFile}}
}
userdb {
  driver = passwd-file
  args = {{.PasswdFile}}
}

namespace inbox {
  inbox = yes
  prefix = {{.Prefix}}
  separator = {{.Separator}}
{{- if .SpecialUseFolders}}
  # Mailbox names here are relative to the prefix: with INBOX. the folder
  # is INBOX.Sent.
{{- end}}
{{- range .SpecialUseFolders}}
  mailbox {{.Name}} {
    special_use = {{.Attr}}
    auto = {{$.SpecialUseAuto}}
  }
{{- end}}
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.IMAPPort}}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = {{.IMAPSPort}}
    ssl = yes
  }
{{- if not .RunAs.Root}}
  # Only root may chroot.
  chroot =
{{- end}}
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = {{.POP3Port}}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = {{.POP3SPort}}
    ssl = yes
  }
{{- if not .RunAs.Root}}
  chroot =
{{- end}}
}
# Dovecot delays logins from an IP after failed ones, doubling up to 15 s.
# All tests come from 127.0.0.1, so a test of a wrong password would slow
# every later login; closing the penalty socket turns the feature off.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
{{- if not .RunAs.Root}}
  chroot =
{{- end}}
}
{{- if not .RunAs.Root}}
service ipc {
  chroot =
}
{{- end}}
`))

// writeDovecotConfig renders the configuration into path.
func writeDovecotConfig(path string, cfg dovecotConfig) error {
	var buf bytes.Buffer
	if err := dovecotTemplate.Execute(&buf, cfg); err != nil {
		return fmt.Errorf("render dovecot config: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write dovecot config: %w", err)
	}
	return nil
}
