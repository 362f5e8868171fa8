package oauth

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
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// fakeAuthServer is an authorization server as Microsoft's and Google's
// behave for the flows mailferry uses (RFC 6749, 7636, 7523, 8628): just
// enough of it, in the test process.
type fakeAuthServer struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// expiresIn is the lifetime of the access tokens it issues.
	expiresIn int
	issued    int
	// challenges are PKCE challenges by code; polls counts a device
	// code's polls (the first is answered authorization_pending).
	challenges map[string]string
	polls      map[string]int
	refresh    map[string]bool // valid refresh tokens
	secret     string
	key        *rsa.PublicKey // of the service account
	grants     []string
}

func startAuthServer(t *testing.T) *fakeAuthServer {
	f := &fakeAuthServer{t: t, expiresIn: 3600, challenges: map[string]string{}, polls: map[string]int{}, refresh: map[string]bool{}, secret: "s3cret"}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", f.authorize)
	mux.HandleFunc("/devicecode", f.deviceCode)
	mux.HandleFunc("/token", f.token)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAuthServer) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token", DeviceAuthURL: f.srv.URL + "/devicecode",
		AuthStyle: oauth2.AuthStyleInParams}
}

// revoke makes every refresh token invalid.
func (f *fakeAuthServer) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh = map[string]bool{}
}

func (f *fakeAuthServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE required", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	code := fmt.Sprintf("code-%d", len(f.challenges))
	f.challenges[code] = q.Get("code_challenge")
	f.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *fakeAuthServer) deviceCode(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"device_code": "dev-1", "user_code": "ABCD-EFGH",
		"verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 1})
}

func (f *fakeAuthServer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	grant := r.Form.Get("grant_type")
	f.grants = append(f.grants, grant)
	switch grant {
	case "urn:ietf:params:oauth:grant-type:device_code":
		f.polls[r.Form.Get("device_code")]++
		if f.polls[r.Form.Get("device_code")] == 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "authorization_pending"})
			return
		}
	case "authorization_code":
		challenge, ok := f.challenges[r.Form.Get("code")]
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		}
	case "refresh_token":
		if !f.refresh[r.Form.Get("refresh_token")] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "AADSTS70000: the refresh token was revoked"})
			return
		}
	case "client_credentials":
		if r.Form.Get("client_secret") != f.secret {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
			return
		}
		f.issued++
		writeJSON(w, http.StatusOK, map[string]any{"access_token": fmt.Sprintf("app-%d", f.issued), "token_type": "Bearer", "expires_in": f.expiresIn})
		return
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		sub, err := f.checkAssertion(r.Form.Get("assertion"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": err.Error()})
			return
		}
		f.issued++
		writeJSON(w, http.StatusOK, map[string]any{"access_token": fmt.Sprintf("sa-%s-%d", sub, f.issued), "token_type": "Bearer", "expires_in": f.expiresIn})
		return
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	f.issued++
	rt := fmt.Sprintf("refresh-%d", f.issued)
	f.refresh[rt] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": fmt.Sprintf("access-%d", f.issued), "token_type": "Bearer",
		"expires_in": f.expiresIn, "refresh_token": rt})
}

// checkAssertion verifies a service account's signed JWT and returns the
// user it asks to act for.
func (f *fakeAuthServer) checkAssertion(a string) (string, error) {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.key, crypto.SHA256, sum[:], sig); err != nil {
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
	if claims.Sub == "" || claims.Scope != "https://mail.google.com/" {
		return "", fmt.Errorf("claims %+v", claims)
	}
	return claims.Sub, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
