package oauth

import (
	"strings"
	"testing"
)

func TestChooseMech(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		asked   string
		want    string
		wantErr string
	}{
		{[]string{"PLAIN", "XOAUTH2"}, "", MechXOAUTH2, ""},
		{[]string{"XOAUTH2", "OAUTHBEARER"}, "", MechOAUTHBEARER, ""},
		{[]string{"XOAUTH2", "OAUTHBEARER"}, "xoauth2", MechXOAUTH2, ""},
		{[]string{"PLAIN"}, "", "", "offers no OAuth2 sign-in"},
		{[]string{"XOAUTH2"}, "OAUTHBEARER", "", "does not offer SASL OAUTHBEARER"},
		{[]string{"XOAUTH2"}, "PLAIN", "", "XOAUTH2 or OAUTHBEARER"},
	} {
		got, err := ChooseMech(tc.offered, tc.asked)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v %q: %q, %v; want an error with %q", tc.offered, tc.asked, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v %q: %q, %v; want %q", tc.offered, tc.asked, got, err, tc.want)
		}
	}
}

func TestXOAUTH2(t *testing.T) {
	c := SASLClient(MechXOAUTH2, "ann@example.org", "tok")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=ann@example.org\x01auth=Bearer tok\x01\x01" {
		t.Errorf("start: %s %q %v", mech, ir, err)
	}
	resp, err := c.Next([]byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`))
	if err != nil || len(resp) != 0 {
		t.Errorf("answer to the error challenge: %q %v; want an empty response", resp, err)
	}
}
