package accounts

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Account is one row of an accounts file.
type Account struct {
	// Line is the row's line in the file, for errors.
	Line int
	// Name is the account's name in the archive: the "account" column, or
	// else source_user@source host.
	Name string
	// Source and Destination are server URLs without a user
	// (imaps://mail.example.org); either may be empty for a file used by
	// export alone or import alone.
	Source, Destination Side
	// Include, Exclude are folder patterns (separated by ";" in the
	// file); Into and Profile as the import options of those names.
	Include, Exclude []string
	Into, Profile    string
}

// Side is one end of an account: server, user, admin login and where the
// secret is.
type Side struct {
	URL      string
	User     string
	AuthUser string
	// PasswordFile, PasswordCommand and PasswordEnv say where the
	// password is (at most one); OAuth2TokenFile, OAuth2TokenCommand and
	// OAuth2Cache where an OAuth2 token is.
	PasswordFile, PasswordCommand, PasswordEnv       string
	OAuth2TokenFile, OAuth2TokenCommand, OAuth2Cache string
}

// UserURL is the side's URL with its user: what export --from and import
// --to take.
func (s Side) UserURL() string {
	if s.URL == "" {
		return ""
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return s.URL
	}
	u.User = url.User(s.User)
	return u.String()
}

// columns maps each column to where it goes; a side's columns are named
// source_X and destination_X.
var sideColumns = map[string]func(*Side, string){
	"":                      func(s *Side, v string) { s.URL = v },
	"_user":                 func(s *Side, v string) { s.User = v },
	"_auth_user":            func(s *Side, v string) { s.AuthUser = v },
	"_password_file":        func(s *Side, v string) { s.PasswordFile = v },
	"_password_command":     func(s *Side, v string) { s.PasswordCommand = v },
	"_password_env":         func(s *Side, v string) { s.PasswordEnv = v },
	"_oauth2_token_file":    func(s *Side, v string) { s.OAuth2TokenFile = v },
	"_oauth2_token_command": func(s *Side, v string) { s.OAuth2TokenCommand = v },
	"_oauth2_cache":         func(s *Side, v string) { s.OAuth2Cache = v },
}

var accountColumns = map[string]func(*Account, string){
	"account": func(a *Account, v string) { a.Name = v },
	"include": func(a *Account, v string) { a.Include = splitList(v) },
	"exclude": func(a *Account, v string) { a.Exclude = splitList(v) },
	"into":    func(a *Account, v string) { a.Into = v },
	"profile": func(a *Account, v string) { a.Profile = v },
}

// ErrInlineSecret refuses a column that would hold a secret itself.
var ErrInlineSecret = errors.New("secrets go by file, command or environment variable name, never in the accounts file")

// Parse reads an accounts file: a header row naming the columns, then one
// account a row. Unknown columns, secrets written inline, a row without a
// user and two rows of one account are errors naming the line.
func Parse(r io.Reader) ([]Account, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("accounts file: header row: %w", err)
	}
	setters := make([]func(*Account, string), len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		set, err := columnSetter(name)
		if err != nil {
			return nil, fmt.Errorf("accounts file: column %q: %w", h, err)
		}
		setters[i] = set
	}
	var out []Account
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("accounts file: %w", err)
		}
		a := Account{Line: line}
		for i, v := range rec {
			setters[i](&a, strings.TrimSpace(v))
		}
		if err := a.check(); err != nil {
			return nil, fmt.Errorf("accounts file line %d: %w", line, err)
		}
		if prev, dup := seen[a.Name]; dup {
			return nil, fmt.Errorf("accounts file line %d: account %q is on line %d already", line, a.Name, prev)
		}
		seen[a.Name] = line
		out = append(out, a)
	}
}

func columnSetter(name string) (func(*Account, string), error) {
	if set, ok := accountColumns[name]; ok {
		return set, nil
	}
	for _, side := range []string{"source", "destination"} {
		rest, ok := strings.CutPrefix(name, side)
		if !ok {
			continue
		}
		set, ok := sideColumns[rest]
		if !ok {
			break
		}
		return func(a *Account, v string) {
			if side == "source" {
				set(&a.Source, v)
			} else {
				set(&a.Destination, v)
			}
		}, nil
	}
	if strings.Contains(name, "password") || strings.Contains(name, "secret") || strings.Contains(name, "token") {
		return nil, ErrInlineSecret
	}
	known := []string{"account", "include", "exclude", "into", "profile"}
	for suffix := range sideColumns {
		known = append(known, "source"+suffix, "destination"+suffix)
	}
	slices.Sort(known)
	return nil, fmt.Errorf("unknown column; the columns are %s", strings.Join(known, ", "))
}

// check fills in the name and refuses a row that cannot run.
func (a *Account) check() error {
	if a.Source.URL == "" && a.Destination.URL == "" {
		return errors.New("no source and no destination")
	}
	for _, s := range []struct {
		name string
		side *Side
	}{{"source", &a.Source}, {"destination", &a.Destination}} {
		if s.side.URL == "" {
			continue
		}
		u, err := url.Parse(s.side.URL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s %q: want a server URL such as imaps://mail.example.org", s.name, s.side.URL)
		}
		if u.User != nil {
			return fmt.Errorf("%s %q: the user goes in %s_user, not in the URL", s.name, s.side.URL, s.name)
		}
		if s.side.User == "" {
			return fmt.Errorf("%s %s: no %s_user", s.name, s.side.URL, s.name)
		}
		n := 0
		for _, v := range []string{s.side.PasswordFile, s.side.PasswordCommand, s.side.PasswordEnv, s.side.OAuth2TokenFile, s.side.OAuth2TokenCommand, s.side.OAuth2Cache} {
			if v != "" {
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("%s: give one of password file, command, environment variable or OAuth2 token source, not %d", s.name, n)
		}
	}
	if a.Name == "" {
		if a.Source.URL == "" {
			return errors.New("no account name: give the account column when there is no source")
		}
		u, _ := url.Parse(a.Source.URL)
		a.Name = a.Source.User + "@" + u.Hostname()
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
