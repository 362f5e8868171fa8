package accounts

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

const header = "source,source_user,source_auth_user,source_password_file,destination,destination_user,destination_password_env,account,include,into,profile\n"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		want    []string // Name, source URL with user, destination URL with user, include
		wantErr string
	}{
		{
			name: "two accounts, admin login, secrets by reference",
			file: header +
				"imaps://old.example.org,ann,admin,/run/secrets/admin,imaps://outlook.office365.com,ann@example.org,DEST_PW,,INBOX;Sent,,office365\n" +
				"# a comment\n" +
				"imap://old.example.org:143,bob,,,imaps://outlook.office365.com,bob@example.org,DEST_PW,bob-archive,,Old,\n",
			want: []string{
				"ann@old.example.org imaps://ann@old.example.org imaps://ann%40example.org@outlook.office365.com [INBOX Sent]",
				"bob-archive imap://bob@old.example.org:143 imaps://bob%40example.org@outlook.office365.com []",
			},
		},
		{name: "a password written inline", file: "source,source_user,source_password\nimaps://a,u,hunter2\n", wantErr: "never in the accounts file"},
		{name: "an unknown column", file: "source,source_user,colour\nimaps://a,u,red\n", wantErr: `column "colour": unknown column`},
		{name: "no user", file: "source,source_user\nimaps://a,\n", wantErr: "line 2: source imaps://a: no source_user"},
		{name: "a user in the URL", file: "source,source_user\nimaps://u@a,u\n", wantErr: "goes in source_user"},
		{name: "two secrets for one side", file: "source,source_user,source_password_file,source_oauth2_cache\nimaps://a,u,/f,/c\n", wantErr: "not 2"},
		{name: "an account twice", file: "source,source_user\nimaps://a,u\nimaps://a,u\n", wantErr: "line 3: account \"u@a\" is on line 2 already"},
		{name: "no header", file: "", wantErr: "header row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%v, want an error with %q", err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "never") && !errors.Is(err, ErrInlineSecret) {
					t.Errorf("%v is not ErrInlineSecret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, a := range got {
				lines = append(lines, fmt.Sprintf("%s %s %s %v", a.Name, a.Source.UserURL(), a.Destination.UserURL(), a.Include))
			}
			if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			if got[0].Source.AuthUser != "admin" || got[0].Source.PasswordFile != "/run/secrets/admin" || got[0].Destination.PasswordEnv != "DEST_PW" || got[0].Profile != "office365" {
				t.Errorf("first account: %+v", got[0])
			}
		})
	}
}

// TestShards: every account is in exactly one shard, and in the same one
// whatever the order of the file.
func TestShards(t *testing.T) {
	var all []Account
	for i := range 200 {
		all = append(all, Account{Name: fmt.Sprintf("user%d@example.org", i)})
	}
	owner := map[string]int{}
	for i := range 7 {
		for _, a := range (Shard{i, 7}).Of(all) {
			if prev, ok := owner[a.Name]; ok {
				t.Fatalf("%s in shards %d and %d", a.Name, prev, i)
			}
			owner[a.Name] = i
		}
	}
	if len(owner) != len(all) {
		t.Fatalf("%d of %d accounts in a shard", len(owner), len(all))
	}
	shuffled := append([]Account(nil), all...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := range 7 {
		for _, a := range (Shard{i, 7}).Of(shuffled[:150]) {
			if owner[a.Name] != i {
				t.Errorf("%s moved from shard %d to %d", a.Name, owner[a.Name], i)
			}
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"0/4", true}, {"3/4", true}, {"4/4", false}, {"-1/4", false}, {"1", false}, {"a/b", false}, {"0/0", false}} {
		if _, err := ParseShard(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseShard(%q): %v", tc.in, err)
		}
	}
}
