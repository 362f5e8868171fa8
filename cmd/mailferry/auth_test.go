package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/mailferry/mailferry/internal/testserver"
	"golang.org/x/oauth2"
)

// TestAuthCheck reads a sign-in cache through `mailferry auth check`: a
// good one prints the token's expiry and never the token; a revoked one
// fails with what to check, for the provider it names.
func TestAuthCheck(t *testing.T) {
	as := testserver.StartAuthServer(t, "ann", "s3cret")
	ep := oauth2.Endpoint{AuthURL: as.AuthURL, TokenURL: as.TokenURL, DeviceAuthURL: as.DeviceAuthURL, AuthStyle: oauth2.AuthStyleInParams}
	c, err := oauth.Login(context.Background(), oauth.LoginOptions{Provider: oauth.Provider{Name: "microsoft", Flow: oauth.FlowDevice, Endpoint: ep,
		Scopes: []string{"imap"}}, ClientID: "client-1", Out: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cache.json")
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	out := runCLI(t, "auth", "check", "--cache", path)
	if !strings.Contains(out, "microsoft sign-in of client client-1") || strings.Contains(out, c.Token.AccessToken) {
		t.Errorf("auth check: %s", out)
	}
	as.RevokeAll()
	// The cached token is still good for an hour: make it look expired.
	c.Token.Expiry = c.Token.Expiry.Add(-2 * 3600e9)
	c.Write(path)
	out, err = runCLIErr("auth", "check", "--cache", path)
	if err == nil || !strings.Contains(err.Error(), "sign in again") || !strings.Contains(err.Error(), "IMAP.AccessAsUser.All") {
		t.Errorf("auth check of a revoked sign-in: %v\n%s", err, out)
	}
	if _, err := runCLIErr("auth", "login", "--provider", "yahoo", "--client-id", "x"); exitCodeOf(err) != 2 {
		t.Errorf("unknown provider: exit %d, want 2", exitCodeOf(err))
	}
}
