package mailconn

import (
	"context"
	"strings"
	"testing"

	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/mailferry/mailferry/internal/testserver"
)

// tokenSource hands out a fixed token and counts the asks.
type tokenSource struct {
	token string
	asked int
}

func (s *tokenSource) Token(context.Context) (string, error) {
	s.asked++
	return s.token, nil
}

// TestOAuth2SignIn signs in to a Dovecot whose oauth2 passdb asks the test
// authorization server: IMAP (go-imap and the Appender) and POP3, with
// XOAUTH2 and OAUTHBEARER; a token asked for at every dial; a revoked
// token fails with the mechanism and user named, and never the token.
func TestOAuth2SignIn(t *testing.T) {
	as := testserver.StartAuthServer(t, "ann", "s3cret")
	d := testserver.StartDovecot(t, testserver.Options{Users: []testserver.User{{Name: "ann", Password: "ann-pw"}}, OAuth2: as})
	const good = "ya29.good-token"
	as.Grant(good, "ann")
	for _, mech := range []string{"", oauth.MechXOAUTH2, oauth.MechOAUTHBEARER} {
		for _, url := range []string{"imap://ann@" + d.IMAPAddr, "pop3://ann@" + d.POP3Addr} {
			t.Run(mech+" "+url[:4], func(t *testing.T) {
				src := &tokenSource{token: good}
				dl, err := NewDialer(mustEndpoint(t, url), Options{Token: src, AuthMech: mech, TLS: TLSOptions{CAFile: d.CAFile}})
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(url, "pop3") {
					c, err := dl.DialPOP3(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					c.Quit(context.Background())
				} else {
					c, err := dl.Dial(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					c.Close()
					ap, err := dl.DialAppender(context.Background())
					if err != nil {
						t.Fatalf("Appender: %v", err)
					}
					ap.Close()
				}
				if want := map[bool]int{true: 1, false: 2}[strings.HasPrefix(url, "pop3")]; src.asked != want {
					t.Errorf("token asked %d times, want once per dial (%d)", src.asked, want)
				}
			})
		}
	}
	as.RevokeAll()
	dl, err := NewDialer(mustEndpoint(t, "imap://ann@"+d.IMAPAddr), Options{Token: &tokenSource{token: good}, AuthMech: "XOAUTH2", TLS: TLSOptions{CAFile: d.CAFile}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dl.Dial(context.Background())
	if err == nil || !strings.Contains(err.Error(), "OAuth2 token (XOAUTH2) of user ann") || strings.Contains(err.Error(), good) {
		t.Errorf("revoked token: %v; want the mechanism and user named, and no token", err)
	}
}
