package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

// Introspection is an OAuth2 token introspection endpoint (RFC 7662) in
// the test process, which a Dovecot started with Options.OAuth2 asks
// whether a token is good and whose it is: the part of Microsoft's or
// Google's service that an IMAP server relies on.
type Introspection struct {
	URL string

	mu     sync.Mutex
	tokens map[string]string // token -> user
	asked  int
}

// StartIntrospection starts the endpoint; it stops with the test.
func StartIntrospection(t testing.TB) *Introspection {
	in := &Introspection{tokens: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(srv.Close)
	in.URL = srv.URL + "/introspect"
	return in
}

// Grant makes token good for user; Revoke makes it bad again.
func (in *Introspection) Grant(token, user string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.tokens[token] = user
}

func (in *Introspection) Revoke(token string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.tokens, token)
}

// Asked counts the tokens Dovecot asked about.
func (in *Introspection) Asked() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.asked
}

func (in *Introspection) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	in.mu.Lock()
	in.asked++
	user, ok := in.tokens[r.Form.Get("token")]
	in.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		json.NewEncoder(w).Encode(map[string]any{"active": false})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"active": true, "username": user})
}

// writeConfig writes the oauth2 passdb's settings: POST the token to the
// introspection URL, take the user from "username", and accept only
// active tokens.
func (in *Introspection) writeConfig(path string) error {
	conf := fmt.Sprintf(`introspection_mode = post
introspection_url = %s
username_attribute = username
active_attribute = active
active_value = true
`, in.URL)
	return os.WriteFile(path, []byte(conf), 0o644)
}
