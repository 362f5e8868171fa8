package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// The SASL mechanisms that carry a bearer token. Microsoft takes only
// XOAUTH2; Google and Dovecot take both.
const (
	MechXOAUTH2     = "XOAUTH2"
	MechOAUTHBEARER = "OAUTHBEARER"
)

// ChooseMech picks the mechanism: the one asked for (if the server offers
// it), else OAUTHBEARER (the standard, RFC 7628) where offered, else
// XOAUTH2.
func ChooseMech(offered []string, asked string) (string, error) {
	has := func(m string) bool {
		for _, o := range offered {
			if strings.EqualFold(o, m) {
				return true
			}
		}
		return false
	}
	if asked != "" {
		asked = strings.ToUpper(asked)
		if asked != MechXOAUTH2 && asked != MechOAUTHBEARER {
			return "", fmt.Errorf("--auth-mech %s: an OAuth2 token goes with XOAUTH2 or OAUTHBEARER", asked)
		}
		if !has(asked) {
			return "", fmt.Errorf("the server does not offer SASL %s (it offers %s)", asked, strings.Join(offered, " "))
		}
		return asked, nil
	}
	switch {
	case has(MechOAUTHBEARER):
		return MechOAUTHBEARER, nil
	case has(MechXOAUTH2):
		return MechXOAUTH2, nil
	}
	return "", fmt.Errorf("the server offers no OAuth2 sign-in (SASL XOAUTH2 or OAUTHBEARER); it offers %s", strings.Join(offered, " "))
}

// SASLClient is the SASL client of mech for user with token.
func SASLClient(mech, user, token string) sasl.Client {
	if mech == MechOAUTHBEARER {
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token})
	}
	return &xoauth2{user: user, token: token}
}

// xoauth2 is Google's and Microsoft's SASL XOAUTH2: one initial response
// "user=U^Aauth=Bearer T^A^A". A refusal comes as a challenge holding a
// JSON error, to which the client answers with an empty response so that
// the server sends its tagged NO.
type xoauth2 struct {
	user, token string
	failure     error
}

func (x *xoauth2) Start() (string, []byte, error) {
	return MechXOAUTH2, []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next(challenge []byte) ([]byte, error) {
	var e struct {
		Status  string `json:"status"`
		Schemes string `json:"schemes"`
		Scope   string `json:"scope"`
	}
	if json.Unmarshal(challenge, &e) == nil && e.Status != "" {
		x.failure = fmt.Errorf("the server refused the token (status %s, scope %s)", e.Status, e.Scope)
	} else if len(challenge) > 0 {
		x.failure = errors.New("the server refused the token")
	}
	return []byte{}, nil
}
