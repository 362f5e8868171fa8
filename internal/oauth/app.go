package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"
)

// The application flows have no refresh token: a new token is asked for
// with the application's own credentials whenever the last one runs out.

// tokenFunc is a TokenSource from a function.
type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

func clientCredentials(ctx context.Context, c *Cache) (oauth2.TokenSource, error) {
	secret, err := readSecret(c.SecretFile)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, fmt.Errorf("provider %s needs the client secret (--client-secret-file)", c.Provider)
	}
	conf := &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: secret, TokenURL: c.Endpoint.TokenURL, Scopes: c.Scopes}
	return tokenFunc(func() (*oauth2.Token, error) { return conf.Token(ctx) }), nil
}

// serviceKey is what a service account's JSON key file holds that a
// sign-in needs.
type serviceKey struct {
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

func readServiceKey(path string) (*serviceKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("service account key: %w", err)
	}
	var k serviceKey
	if err := json.Unmarshal(b, &k); err != nil || k.ClientEmail == "" || k.PrivateKey == "" {
		return nil, fmt.Errorf("service account key %s: not a JSON key with client_email and private_key", path)
	}
	return &k, nil
}

func serviceAccount(ctx context.Context, c *Cache) (oauth2.TokenSource, error) {
	k, err := readServiceKey(c.KeyFile)
	if err != nil {
		return nil, err
	}
	if c.User == "" {
		return nil, fmt.Errorf("provider %s signs in as a user of the domain: give the mailbox (--user)", c.Provider)
	}
	tokenURL := c.Endpoint.TokenURL
	if k.TokenURI != "" {
		tokenURL = k.TokenURI
	}
	conf := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
		Scopes: c.Scopes, TokenURL: tokenURL, Subject: c.User}
	return tokenFunc(func() (*oauth2.Token, error) { return conf.TokenSource(ctx).Token() }), nil
}
