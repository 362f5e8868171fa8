package testserver

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// AuthServer is an OAuth2 authorization server as Microsoft's and Google's
// behave for the flows mailferry uses (RFC 6749 refresh and client
// credentials, RFC 7636 PKCE, RFC 7523 JWT bearer, RFC 8628 device code),
// plus the token introspection endpoint (RFC 7662) that a Dovecot started
// with Options.OAuth2 asks whether a token is good and whose it is. It runs
// in the test process; just enough of it.
type AuthServer struct {
	// AuthURL, TokenURL and DeviceAuthURL are its endpoints.
	AuthURL, TokenURL, DeviceAuthURL string
	introspectURL                    string

	mu sync.Mutex
	// expiresIn is the lifetime of the access tokens it issues; user is
	// whom the user flows and client credentials sign in.
	expiresIn  int
	user       string
	issued     int
	access     map[string]string    // access token -> user
	expires    map[string]time.Time // access token -> end of its life
	refresh    map[string]string    // refresh token -> user
	challenges map[string]string    // PKCE challenge by code
	polls      map[string]int       // a device code's polls
	secret     string
	key        *rsa.PublicKey // of the service account
	asked      int
}

// StartAuthServer starts the server, signing users in as user, taking
// secret as the client secret; it stops with the test.
func StartAuthServer(t testing.TB, user, secret string) *AuthServer {
	a := &AuthServer{expiresIn: 3600, user: user, secret: secret, access: map[string]string{}, expires: map[string]time.Time{}, refresh: map[string]string{},
		challenges: map[string]string{}, polls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", a.authorize)
	mux.HandleFunc("/devicecode", a.deviceCode)
	mux.HandleFunc("/token", a.token)
	mux.HandleFunc("/introspect", a.introspect)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a.AuthURL, a.TokenURL, a.DeviceAuthURL, a.introspectURL = srv.URL+"/authorize", srv.URL+"/token", srv.URL+"/devicecode", srv.URL+"/introspect"
	return a
}

// SetExpiresIn sets the lifetime, in seconds, of the tokens issued next.
func (a *AuthServer) SetExpiresIn(seconds int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expiresIn = seconds
}

// SetServiceKey is the public key of the service account whose signed
// JWTs the server takes.
func (a *AuthServer) SetServiceKey(k *rsa.PublicKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.key = k
}

// Grant makes token good for user, as if issued; RevokeAll makes every
// token and refresh token bad.
func (a *AuthServer) Grant(token, user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access[token] = user
}

func (a *AuthServer) RevokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access, a.refresh = map[string]string{}, map[string]string{}
}

// Issued counts the access tokens issued; Asked the introspections.
func (a *AuthServer) Issued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued
}

func (a *AuthServer) Asked() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.asked
}

func (a *AuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE required", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	code := fmt.Sprintf("code-%d", len(a.challenges))
	a.challenges[code] = q.Get("code_challenge")
	a.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || back.Hostname() != "127.0.0.1" {
		http.Error(w, "redirect_uri must be a loopback address", http.StatusBadRequest)
		return
	}
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (a *AuthServer) deviceCode(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"device_code": "dev-1", "user_code": "ABCD-EFGH",
		"verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 1})
}

// issue answers with a new access token for user, and a refresh token
// when withRefresh. a.mu is held.
func (a *AuthServer) issue(w http.ResponseWriter, prefix, user string, withRefresh bool) {
	a.issued++
	tok := fmt.Sprintf("%s-%d", prefix, a.issued)
	a.access[tok] = user
	a.expires[tok] = time.Now().Add(time.Duration(a.expiresIn) * time.Second)
	resp := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": a.expiresIn}
	if withRefresh {
		rt := fmt.Sprintf("refresh-%d", a.issued)
		a.refresh[rt] = user
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (a *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Form.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		a.polls[r.Form.Get("device_code")]++
		if a.polls[r.Form.Get("device_code")] == 1 {
			oauthError(w, http.StatusBadRequest, "authorization_pending", "")
			return
		}
		a.issue(w, "access", a.user, true)
	case "authorization_code":
		challenge, ok := a.challenges[r.Form.Get("code")]
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
		a.issue(w, "access", a.user, true)
	case "refresh_token":
		user, ok := a.refresh[r.Form.Get("refresh_token")]
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000: the refresh token was revoked")
			return
		}
		a.issue(w, "access", user, true)
	case "client_credentials":
		if r.Form.Get("client_secret") != a.secret {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		// Dovecot's introspection names no mailbox but the token's owner,
		// so an application's token here is good for the server's user.
		a.issue(w, "app", a.user, false)
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		sub, err := a.checkAssertion(r.Form.Get("assertion"))
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
			return
		}
		a.issue(w, "sa-"+sub, sub, false)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// checkAssertion verifies a service account's signed JWT and returns the
// user it asks to act for. a.mu is held.
func (a *AuthServer) checkAssertion(assertion string) (string, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || a.key == nil {
		return "", fmt.Errorf("not a JWT, or no service account known")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(a.key, crypto.SHA256, sum[:], sig); err != nil {
		return "", fmt.Errorf("bad signature: %v", err)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Sub   string `json:"sub"`
		Scope string `json:"scope"`
	}
	json.Unmarshal(body, &claims)
	if claims.Sub == "" || claims.Scope == "" {
		return "", fmt.Errorf("claims %+v: want sub and scope", claims)
	}
	return claims.Sub, nil
}

// introspect tells Dovecot whether a token is good and whose it is;
// Dovecot checks that the owner is the user logging in.
func (a *AuthServer) introspect(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	a.asked++
	tok := r.Form.Get("token")
	user, ok := a.access[tok]
	if end, issued := a.expires[tok]; issued && time.Now().After(end) {
		ok = false // expired, as a provider's introspection says
	}
	a.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": true, "username": user})
}

// writeConfig writes the oauth2 passdb's settings: POST the token to the
// introspection URL, take the user from "username", and accept only
// active tokens.
func (a *AuthServer) writeConfig(path string) error {
	conf := fmt.Sprintf(`introspection_mode = post
introspection_url = %s
username_attribute = username
active_attribute = active
active_value = true
`, a.introspectURL)
	return os.WriteFile(path, []byte(conf), 0o644)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
