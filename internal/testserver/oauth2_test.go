package testserver

import (
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// xoauth2 is the SASL XOAUTH2 initial response, enough for this test.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// TestDovecotOAuth2 checks the oauth2 passdb: a granted token signs its
// user in with XOAUTH2 and with OAUTHBEARER, a revoked one and another
// user's are refused.
func TestDovecotOAuth2(t *testing.T) {
	in := StartAuthServer(t, "ann", "secret")
	d := StartDovecot(t, Options{Users: []User{{Name: "ann", Password: "ann-pw"}, {Name: "bob", Password: "bob-pw"}}, OAuth2: in})
	in.Grant("tok-ann", "ann")
	for _, tc := range []struct {
		name   string
		client sasl.Client
		ok     bool
	}{
		{"XOAUTH2", xoauth2{"ann", "tok-ann"}, true},
		{"OAUTHBEARER", sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "ann", Token: "tok-ann"}), true},
		{"unknown token", xoauth2{"ann", "tok-nobody"}, false},
		{"another user's token", xoauth2{"bob", "tok-ann"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := imapclient.DialInsecure(d.IMAPAddr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Authenticate(tc.client)
			if (err == nil) != tc.ok {
				t.Errorf("authenticate: %v, want success %v\n%s", err, tc.ok, d.LogTail())
			}
		})
	}
	if in.Asked() == 0 {
		t.Error("Dovecot never asked the introspection endpoint")
	}
}
