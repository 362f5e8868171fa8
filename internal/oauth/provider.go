package oauth

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/microsoft"
)

// Flow is how a provider's sign-in gets its first token.
type Flow string

const (
	// FlowDevice shows a code to enter at the provider's page (RFC 8628).
	FlowDevice Flow = "device-code"
	// FlowLoopback opens the provider's page, which sends the browser back
	// to a listener on 127.0.0.1 with a code, exchanged with PKCE
	// (RFC 7636): Google's device flow does not cover Gmail.
	FlowLoopback Flow = "loopback"
	// FlowClientCredentials signs an application in with its secret: app-only
	// access to every mailbox of a tenant (RFC 6749 4.4).
	FlowClientCredentials Flow = "client-credentials"
	// FlowServiceAccount signs a JWT with a service account's key, as a
	// user of the domain (domain-wide delegation; RFC 7523).
	FlowServiceAccount Flow = "service-account"
)

// Provider is what a sign-in needs to know of an authorization server.
type Provider struct {
	Name     string
	Flow     Flow
	Endpoint oauth2.Endpoint
	Scopes   []string
}

var googleEndpoint = oauth2.Endpoint{
	AuthURL:  "https://accounts.google.com/o/oauth2/auth",
	TokenURL: "https://oauth2.googleapis.com/token",
}

// providers builds the known providers for a tenant (Microsoft's
// directory, "common" by default).
var providers = map[string]func(tenant string) Provider{
	"microsoft": func(tenant string) Provider {
		return Provider{Name: "microsoft", Flow: FlowDevice, Endpoint: microsoft.AzureADEndpoint(tenant),
			Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/POP.AccessAsUser.All", "offline_access"}}
	},
	"microsoft-app": func(tenant string) Provider {
		return Provider{Name: "microsoft-app", Flow: FlowClientCredentials, Endpoint: microsoft.AzureADEndpoint(tenant),
			Scopes: []string{"https://outlook.office365.com/.default"}}
	},
	"google": func(string) Provider {
		return Provider{Name: "google", Flow: FlowLoopback, Endpoint: googleEndpoint, Scopes: []string{"https://mail.google.com/"}}
	},
	"google-service-account": func(string) Provider {
		return Provider{Name: "google-service-account", Flow: FlowServiceAccount, Endpoint: googleEndpoint, Scopes: []string{"https://mail.google.com/"}}
	},
}

// ProviderByName returns a known provider; tenant is Microsoft's directory
// (ID or domain), required for microsoft-app.
func ProviderByName(name, tenant string) (Provider, error) {
	mk, ok := providers[name]
	if !ok {
		names := make([]string, 0, len(providers))
		for n := range providers {
			names = append(names, n)
		}
		sort.Strings(names)
		return Provider{}, fmt.Errorf("provider %q: the known ones are %s", name, strings.Join(names, ", "))
	}
	if name == "microsoft-app" && (tenant == "" || tenant == "common" || tenant == "organizations") {
		return Provider{}, fmt.Errorf("provider microsoft-app needs the tenant (directory ID or domain): an application signs in to one directory")
	}
	return mk(tenant), nil
}
