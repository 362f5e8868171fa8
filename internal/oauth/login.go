package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// LoginOptions say who signs in where.
type LoginOptions struct {
	Provider Provider
	ClientID string
	Tenant   string
	// SecretFile holds the client secret where the flow needs one;
	// KeyFile a service account's JSON key; User the mailbox a service
	// account acts for.
	SecretFile, KeyFile, User string
	// Out is where the user is told what to do (a code to enter, a page
	// to open); OpenURL, if set, opens the page for them (a browser, or a
	// test's HTTP client).
	Out     io.Writer
	OpenURL func(url string) error
	// Timeout bounds the wait for the user (default 10 minutes).
	Timeout time.Duration
}

// Login signs in by the provider's flow and returns the cache to keep.
func Login(ctx context.Context, o LoginOptions) (*Cache, error) {
	p := o.Provider
	if o.ClientID == "" {
		return nil, errors.New("sign-in needs the application's client ID (--client-id), registered with the provider")
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c := &Cache{Provider: p.Name, Flow: p.Flow, ClientID: o.ClientID, Tenant: o.Tenant, Endpoint: p.Endpoint, Scopes: p.Scopes,
		User: o.User, SecretFile: o.SecretFile, KeyFile: o.KeyFile}
	var tok *oauth2.Token
	var err error
	switch p.Flow {
	case FlowDevice:
		tok, err = deviceLogin(ctx, c, o)
	case FlowLoopback:
		tok, err = loopbackLogin(ctx, c, o)
	case FlowClientCredentials, FlowServiceAccount:
		var ts oauth2.TokenSource
		if ts, err = c.tokenSource(ctx); err == nil {
			tok, err = ts.Token()
		}
	default:
		err = fmt.Errorf("unknown flow %q", p.Flow)
	}
	if err != nil {
		return nil, fmt.Errorf("oauth2 %s sign-in: %w", p.Name, describe(err))
	}
	c.Token = tok
	return c, nil
}

func (c *Cache) config(secret, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, Endpoint: c.Endpoint, Scopes: c.Scopes, RedirectURL: redirect}
}

func deviceLogin(ctx context.Context, c *Cache, o LoginOptions) (*oauth2.Token, error) {
	secret, err := readSecret(c.SecretFile)
	if err != nil {
		return nil, err
	}
	conf := c.config(secret, "")
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "To sign in, open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	if o.OpenURL != nil {
		if err := o.OpenURL(da.VerificationURI); err != nil {
			return nil, err
		}
	}
	return conf.DeviceAccessToken(ctx, da)
}

// loopbackLogin sends the user to the provider's page with a redirect to
// a one-request listener on 127.0.0.1, and exchanges the code it brings
// back, proving with PKCE that this process asked for it.
func loopbackLogin(ctx context.Context, c *Cache, o LoginOptions) (*oauth2.Token, error) {
	secret, err := readSecret(c.SecretFile)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	conf := c.config(secret, "http://"+ln.Addr().String()+"/")
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the page came back with another sign-in's state")
		case q.Get("error") != "":
			res.err = fmt.Errorf("the provider said %s: %s", q.Get("error"), q.Get("error_description"))
		default:
			res.code = q.Get("code")
		}
		msg := "Signed in: you can close this page."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><p>%s</p>", html.EscapeString(msg))
		select {
		case got <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	url := conf.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier))
	fmt.Fprintf(o.Out, "To sign in, open this page in a browser on this machine:\n%s\n", url)
	if o.OpenURL != nil {
		if err := o.OpenURL(url); err != nil {
			return nil, err
		}
	}
	select {
	case r := <-got:
		if r.err != nil {
			return nil, r.err
		}
		return conf.Exchange(ctx, r.code, oauth2.VerifierOption(verifier))
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer from the browser: %w", ctx.Err())
	}
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
