package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/mailferry/mailferry/internal/atomicfile"
)

// Cache is a sign-in kept on disk (0600) by `mailferry auth login`: the
// provider and client it used, where its secret or key lives (a path,
// never the secret), and the latest token, refreshed as it runs out.
type Cache struct {
	Provider string          `json:"provider"`
	Flow     Flow            `json:"flow"`
	ClientID string          `json:"client_id"`
	Tenant   string          `json:"tenant,omitempty"`
	Endpoint oauth2.Endpoint `json:"endpoint"`
	Scopes   []string        `json:"scopes"`
	// User is the mailbox a service account signs in as.
	User string `json:"user,omitempty"`
	// SecretFile holds the client secret (client credentials, and the
	// refresh of web clients that have one); KeyFile a service account's
	// JSON key.
	SecretFile string        `json:"client_secret_file,omitempty"`
	KeyFile    string        `json:"key_file,omitempty"`
	Token      *oauth2.Token `json:"token,omitempty"`
}

// ReadCache reads a sign-in cache.
func ReadCache(path string) (*Cache, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("oauth2 cache: %w (sign in first: mailferry auth login)", err)
	}
	var c Cache
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("oauth2 cache %s: %w", path, err)
	}
	return &c, nil
}

// Write saves the cache atomically, readable by its owner only.
func (c *Cache) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("oauth2 cache: %w", err)
	}
	if err := atomicfile.Write(path, "", append(b, '\n')); err != nil {
		return fmt.Errorf("oauth2 cache: %w", err)
	}
	return nil
}

// DefaultMargin is how long before its expiry a token is replaced: a
// connection made with it then has minutes to log in.
const DefaultMargin = 5 * time.Minute

// CachedSource gives the tokens of a sign-in cache, refreshing them (with
// the refresh token, or by signing in again for application flows) once
// they are within Margin of expiry, and saving each new one to the cache.
type CachedSource struct {
	Path   string
	Margin time.Duration // DefaultMargin when zero

	mu    sync.Mutex
	cache *Cache
	ts    oauth2.TokenSource
}

func (s *CachedSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		c, err := ReadCache(s.Path)
		if err != nil {
			return "", err
		}
		margin := s.Margin
		if margin == 0 {
			margin = DefaultMargin
		}
		base, err := c.tokenSource(context.WithoutCancel(ctx))
		if err != nil {
			return "", err
		}
		s.cache, s.ts = c, oauth2.ReuseTokenSourceWithExpiry(c.Token, base, margin)
	}
	tok, err := s.ts.Token()
	if err != nil {
		return "", fmt.Errorf("oauth2 %s sign-in of client %s: %w", s.cache.Provider, s.cache.ClientID, describe(err))
	}
	if s.cache.Token == nil || tok.AccessToken != s.cache.Token.AccessToken {
		s.cache.Token = tok
		if err := s.cache.Write(s.Path); err != nil {
			return "", err
		}
	}
	return tok.AccessToken, nil
}

// tokenSource is where new tokens come from once the cached one runs out.
func (c *Cache) tokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	switch c.Flow {
	case FlowDevice, FlowLoopback:
		secret, err := readSecret(c.SecretFile)
		if err != nil {
			return nil, err
		}
		conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, Endpoint: c.Endpoint, Scopes: c.Scopes}
		if c.Token == nil || c.Token.RefreshToken == "" {
			return nil, errors.New("oauth2 cache holds no refresh token: sign in again with mailferry auth login")
		}
		return &refresher{ctx: ctx, conf: conf, refreshToken: c.Token.RefreshToken}, nil
	case FlowClientCredentials:
		return clientCredentials(ctx, c)
	case FlowServiceAccount:
		return serviceAccount(ctx, c)
	}
	return nil, fmt.Errorf("oauth2 cache: unknown flow %q", c.Flow)
}

// readSecret reads a secret's first line from a file ("" for no file).
func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	// A secret is its file's first line as it is, not parsed as a token.
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("client secret file: %w", err)
	}
	defer f.Close()
	b, err := readCapped(f)
	if err != nil {
		return "", fmt.Errorf("client secret file %s: %w", path, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimRight(line, "\r"); line == "" {
		return "", fmt.Errorf("client secret file %s: its first line is empty", path)
	}
	return line, nil
}

// describe turns the authorization server's refusal into words, without
// the request (which holds secrets).
func describe(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
		switch re.ErrorCode {
		case "invalid_grant":
			msg += " (the sign-in was revoked or expired: sign in again with mailferry auth login)"
		case "invalid_client", "unauthorized_client":
			msg += " (check the client ID and secret, and that the application is allowed this flow)"
		}
		return errors.New("the authorization server refused: " + msg)
	}
	return err
}

// refresher gets a new token with the refresh token at every call (the
// reuse, with its margin, is CachedSource's), keeping the newest refresh
// token where the server rotates them.
type refresher struct {
	ctx          context.Context
	conf         *oauth2.Config
	refreshToken string
}

func (r *refresher) Token() (*oauth2.Token, error) {
	tok, err := r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: r.refreshToken}).Token()
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" {
		r.refreshToken = tok.RefreshToken
	}
	return tok, nil
}
