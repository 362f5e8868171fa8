package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/mailferry/mailferry/internal/testserver"
	"golang.org/x/oauth2"
)

// TestOAuth2ExportImport moves a mailbox between two users of a Dovecot
// that takes only OAuth2 tokens for them (its oauth2 passdb asks the test
// authorization server): export with a token file, import with a token
// command and XOAUTH2, an export whose one-second tokens expire while it
// runs and are refreshed from the sign-in cache across a cut connection,
// and a revoked sign-in that fails with advice. No token is printed or
// stored anywhere.
func TestOAuth2ExportImport(t *testing.T) {
	as := testserver.StartAuthServer(t, "ann", "s3cret")
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}, {Name: "bob", Password: "bob-pw"}}, OAuth2: as})
	seedMailbox(t, d, "ann", 30)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("tok-ann-1\n"), 0o600)
	as.Grant("tok-ann-1", "ann")
	as.Grant("tok-bob-1", "bob")
	arch := filepath.Join(dir, "archive")
	var printed strings.Builder
	out := runCLI(t, "export", "--from", "imap://ann@"+d.IMAPAddr, "--archive", arch, "--tls-ca", d.CAFile, "--oauth2-token-file", tokenFile)
	printed.WriteString(out)
	out = runCLI(t, "import", "--archive", arch, "--to", "imap://bob@"+d.IMAPAddr, "--tls-ca", d.CAFile,
		"--oauth2-token-command", "echo tok-bob-1", "--auth-mech", "XOAUTH2")
	printed.WriteString(out)
	if !strings.Contains(out, "appended 30 (") {
		t.Errorf("import with a token command: %s", out)
	}
	if got := serverSums(t, d, "bob"); len(got) != 30 {
		t.Errorf("bob holds %d messages, want 30", len(got))
	}

	// A sign-in whose tokens live one second, and an export that takes
	// longer, cut once in the middle: the reconnect needs a new token.
	as.SetExpiresIn(1)
	ep := oauth2.Endpoint{AuthURL: as.AuthURL, TokenURL: as.TokenURL, DeviceAuthURL: as.DeviceAuthURL, AuthStyle: oauth2.AuthStyleInParams}
	c, err := oauth.Login(context.Background(), oauth.LoginOptions{Provider: oauth.Provider{Name: "microsoft", Flow: oauth.FlowDevice, Endpoint: ep, Scopes: []string{"imap"}},
		ClientID: "client-1", Out: &printed})
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache.json")
	c.Write(cache)
	issued := as.Issued()
	proxy := testserver.StartCutProxy(t, d.IMAPAddr, 20<<10, -1)
	arch2 := filepath.Join(dir, "archive2")
	out = runCLI(t, "export", "--from", "imap://ann@"+proxy.Addr, "--archive", arch2, "--tls-ca", d.CAFile, "--oauth2-cache", cache,
		"--connections", "1", "--max-messages-per-second", "12")
	printed.WriteString(out)
	if proxy.Cuts() == 0 || as.Issued() <= issued || len(archiveSums(t, arch2, "ann@127.0.0.1")) != 30 {
		t.Errorf("export across an expiry: %d connections, %d cuts, %d tokens issued during it, %d messages stored\n%s", proxy.Conns(), proxy.Cuts(), as.Issued()-issued, len(archiveSums(t, arch2, "ann@127.0.0.1")), out)
	}

	as.RevokeAll()
	as.SetExpiresIn(3600)
	out, err = runCLIErr("export", "--from", "imap://ann@"+d.IMAPAddr, "--archive", filepath.Join(dir, "archive3"), "--tls-ca", d.CAFile, "--oauth2-cache", cache)
	printed.WriteString(out)
	if err == nil || !strings.Contains(err.Error(), "sign in again") {
		t.Errorf("export with a revoked sign-in: %v\n%s", err, out)
	} else {
		printed.WriteString(err.Error())
	}

	saved, _ := oauth.ReadCache(cache)
	secrets := []string{"tok-ann-1", "tok-bob-1", saved.Token.AccessToken, saved.Token.RefreshToken}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && p != tokenFile && p != cache {
			b, _ := os.ReadFile(p)
			printed.Write(b)
		}
		return nil
	})
	for _, s := range secrets {
		if s != "" && strings.Contains(printed.String(), s) {
			t.Errorf("secret %q appears in mailferry's output, archive or manifest", s)
		}
	}
}
