package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailferry/mailferry/internal/testserver"
	"golang.org/x/oauth2"
)

// authServer starts the test authorization server and returns its
// endpoint as oauth2 knows it.
func authServer(t *testing.T) (*testserver.AuthServer, oauth2.Endpoint) {
	as := testserver.StartAuthServer(t, "ann", "s3cret")
	return as, oauth2.Endpoint{AuthURL: as.AuthURL, TokenURL: as.TokenURL, DeviceAuthURL: as.DeviceAuthURL, AuthStyle: oauth2.AuthStyleInParams}
}

func TestFileAndCommandSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	for _, tc := range []struct {
		name    string
		src     Source
		want    string
		wantErr string
	}{
		{"file, first line", FileSource{write("plain", "eyJ0eXAi.tok\nignored\n")}, "eyJ0eXAi.tok", ""},
		{"file, JSON", FileSource{write("json", `{"access_token":"ya29.abc","expires_in":3599}`)}, "ya29.abc", ""},
		{"file, empty", FileSource{write("empty", "\n")}, "", "no access token"},
		{"file, missing", FileSource{filepath.Join(dir, "none")}, "", "no such file"},
		{"file, too big", FileSource{write("big", strings.Repeat("x", maxTokenBytes+10))}, "", "not a token"},
		{"command", CommandSource{Command: "printf 'tok-from-cmd\\n'"}, "tok-from-cmd", ""},
		{"command, JSON", CommandSource{Command: `echo '{"access_token":"j"}'`}, "j", ""},
		{"command fails", CommandSource{Command: "echo 'consent required' >&2; exit 3"}, "", "consent required"},
		{"command too slow", CommandSource{Command: "sleep 5", Timeout: 100 * time.Millisecond}, "", "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.src.Token(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("token %q, error %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("token %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestDeviceLoginAndRefresh signs in with the device code flow, then reads
// tokens through the cache: a token that runs out is refreshed and saved,
// and a revoked sign-in fails with words to act on and no secret in them.
func TestDeviceLoginAndRefresh(t *testing.T) {
	as, ep := authServer(t)
	as.SetExpiresIn(1)
	var out bytes.Buffer
	c, err := Login(context.Background(), LoginOptions{Provider: Provider{Name: "microsoft", Flow: FlowDevice, Endpoint: ep, Scopes: []string{"imap"}},
		ClientID: "client-1", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ABCD-EFGH") || strings.Contains(out.String(), c.Token.AccessToken) {
		t.Errorf("the user is told %q: want the code, never the token", out.String())
	}
	path := filepath.Join(t.TempDir(), "sub", "cache.json")
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", st.Mode().Perm())
	}
	s := &CachedSource{Path: path, Margin: 100 * time.Millisecond}
	first, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the token runs out
	second, err := s.Token(context.Background())
	if err != nil || second == first {
		t.Fatalf("after expiry: %q, %v; want a new token (was %q)", second, err, first)
	}
	if saved, _ := ReadCache(path); saved.Token.AccessToken != second {
		t.Errorf("cache holds %q, want the refreshed %q", saved.Token.AccessToken, second)
	}
	// A new process reads the saved refresh token.
	third, err := (&CachedSource{Path: path, Margin: 100 * time.Millisecond}).Token(context.Background())
	if err != nil || third == "" {
		t.Fatalf("from the saved cache: %q, %v", third, err)
	}

	as.RevokeAll()
	time.Sleep(1100 * time.Millisecond)
	_, err = s.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sign in again") {
		t.Fatalf("revoked: %v, want advice to sign in again", err)
	}
	saved, _ := ReadCache(path)
	if strings.Contains(err.Error(), saved.Token.RefreshToken) || strings.Contains(err.Error(), saved.Token.AccessToken) {
		t.Errorf("the error shows a token: %v", err)
	}
}

// TestLoopbackLogin signs in as Google's flow does: the page sends the
// browser back to a listener on 127.0.0.1, and the code is exchanged with
// the PKCE verifier (the fake server checks it).
func TestLoopbackLogin(t *testing.T) {
	_, ep := authServer(t)
	var out bytes.Buffer
	c, err := Login(context.Background(), LoginOptions{Provider: Provider{Name: "google", Flow: FlowLoopback, Endpoint: ep, Scopes: []string{"https://mail.google.com/"}},
		ClientID: "client-2", Out: &out, OpenURL: func(u string) error {
			go func() {
				if resp, err := http.Get(u); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Token.AccessToken == "" || c.Token.RefreshToken == "" {
		t.Errorf("token %+v: want an access and a refresh token", c.Token)
	}
}

// TestApplicationLogins: client credentials (Microsoft's app-only access)
// and a service account's JWT (Google's domain-wide delegation), each
// asked again when its token runs out.
func TestApplicationLogins(t *testing.T) {
	as, ep := authServer(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("s3cret\n"), 0o600)
	wrongFile := filepath.Join(dir, "wrong")
	os.WriteFile(wrongFile, []byte("guess\n"), 0o600)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	as.SetServiceKey(&key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})
	keyJSON, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "mf@proj.iam.gserviceaccount.com",
		"private_key": string(pemKey), "private_key_id": "k1", "token_uri": as.TokenURL})
	keyFile := filepath.Join(dir, "key.json")
	os.WriteFile(keyFile, keyJSON, 0o600)

	app := Provider{Name: "microsoft-app", Flow: FlowClientCredentials, Endpoint: ep, Scopes: []string{"https://outlook.office365.com/.default"}}
	sa := Provider{Name: "google-service-account", Flow: FlowServiceAccount, Endpoint: ep, Scopes: []string{"https://mail.google.com/"}}
	for _, tc := range []struct {
		name    string
		opts    LoginOptions
		prefix  string
		wantErr string
	}{
		{"client credentials", LoginOptions{Provider: app, ClientID: "app", SecretFile: secretFile}, "app-", ""},
		{"client credentials, wrong secret", LoginOptions{Provider: app, ClientID: "app", SecretFile: wrongFile}, "", "invalid_client"},
		{"client credentials, no secret", LoginOptions{Provider: app, ClientID: "app"}, "", "client secret"},
		{"service account", LoginOptions{Provider: sa, ClientID: "sa", KeyFile: keyFile, User: "ann@example.org"}, "sa-ann@example.org-", ""},
		{"service account, no user", LoginOptions{Provider: sa, ClientID: "sa", KeyFile: keyFile}, "", "--user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as.SetExpiresIn(1)
			defer as.SetExpiresIn(3600)
			c, err := Login(context.Background(), tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "guess") {
					t.Fatalf("error %v; want one with %q and no secret", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.HasPrefix(c.Token.AccessToken, tc.prefix) {
				t.Fatalf("%+v, %v; want a token %s...", c, err, tc.prefix)
			}
			path := filepath.Join(t.TempDir(), "cache.json")
			c.Write(path)
			b, _ := os.ReadFile(path)
			if bytes.Contains(b, []byte("s3cret")) || bytes.Contains(b, []byte("PRIVATE KEY")) {
				t.Errorf("the cache holds a secret:\n%s", b)
			}
			s := &CachedSource{Path: path, Margin: 100 * time.Millisecond}
			first, err := s.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond)
			if second, err := s.Token(context.Background()); err != nil || second == first {
				t.Errorf("after expiry: %q, %v; want a new token (was %q)", second, err, first)
			}
		})
	}
}

func TestProviderByName(t *testing.T) {
	if p, err := ProviderByName("microsoft", ""); err != nil || p.Flow != FlowDevice || !strings.Contains(p.Endpoint.DeviceAuthURL, "/common/") {
		t.Errorf("microsoft: %+v %v", p, err)
	}
	if _, err := ProviderByName("microsoft-app", ""); err == nil || !strings.Contains(err.Error(), "tenant") {
		t.Errorf("microsoft-app without a tenant: %v", err)
	}
	if p, err := ProviderByName("google", ""); err != nil || p.Flow != FlowLoopback {
		t.Errorf("google: %+v %v", p, err)
	}
	if _, err := ProviderByName("yahoo", ""); err == nil || !strings.Contains(err.Error(), "google-service-account") {
		t.Errorf("unknown provider: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(errors.Join(errors.New("test setup"), err))
	}
	return v
}
