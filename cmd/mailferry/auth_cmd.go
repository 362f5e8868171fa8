package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/urfave/cli/v2"
)

// oauth2CacheFlag names the sign-in cache that auth login writes and that
// the connection flags read.
var oauth2CacheFlag = &cli.StringFlag{Name: "cache", Usage: "the sign-in cache `FILE` (0600; default: mailferry-oauth2.json in the user's config directory)"}

func authCommand() *cli.Command {
	return &cli.Command{
		Name:  "auth",
		Usage: "sign in to Microsoft 365 or Google with OAuth2 (tokens cached and refreshed)",
		Description: "Exchange Online, outlook.com and Google Workspace take no password for IMAP or POP3, only an\n" +
			"OAuth2 token (SASL XOAUTH2). `auth login` signs in once and keeps the token in a cache file\n" +
			"that export and import read with --oauth2-cache FILE, refreshing it before it expires.",
		Subcommands: []*cli.Command{
			{
				Name:  "login",
				Usage: "sign in and write the cache",
				Description: "Providers: microsoft (device code: a code to enter at microsoft.com/devicelogin), google\n" +
					"(a page opened in a browser on this machine, which comes back to 127.0.0.1), microsoft-app (an\n" +
					"application's client secret: every mailbox of a tenant with IMAP.AccessAsApp), and\n" +
					"google-service-account (a service account's JSON key with domain-wide delegation, signing in as\n" +
					"--user). You bring the client ID of an application registered with the provider.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "provider", Usage: "`NAME`: microsoft, google, microsoft-app or google-service-account", Required: true},
					&cli.StringFlag{Name: "client-id", Usage: "the application's client `ID`"},
					&cli.StringFlag{Name: "tenant", Usage: "Microsoft directory `ID` or domain (default common; required for microsoft-app)"},
					&cli.StringFlag{Name: "client-secret-file", Usage: "the client secret, on the first line of `FILE` (microsoft-app; web clients)"},
					&cli.StringFlag{Name: "key-file", Usage: "a service account's JSON key `FILE` (google-service-account)"},
					&cli.StringFlag{Name: "user", Usage: "the mailbox a service account signs in as (`USER@DOMAIN`)"},
					oauth2CacheFlag,
				},
				Action: runAuthLogin,
			},
			{
				Name:   "check",
				Usage:  "get a token from the cache (refreshing it) and say what is missing if that fails",
				Flags:  []cli.Flag{oauth2CacheFlag},
				Action: runAuthCheck,
			},
		},
	}
}

// defaultOAuth2Cache is where auth login keeps its cache when --cache is
// not given.
func defaultOAuth2Cache() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("--cache: no config directory (%v): give the cache file", err)
	}
	return filepath.Join(dir, "mailferry", "mailferry-oauth2.json"), nil
}

func cachePath(c *cli.Context) (string, error) {
	if p := c.String("cache"); p != "" {
		return p, nil
	}
	return defaultOAuth2Cache()
}

func runAuthLogin(c *cli.Context) error {
	p, err := oauth.ProviderByName(c.String("provider"), c.String("tenant"))
	if err != nil {
		return cli.Exit("--provider: "+err.Error(), exitStatusUsage)
	}
	path, err := cachePath(c)
	if err != nil {
		return cli.Exit(err.Error(), exitStatusUsage)
	}
	cache, err := oauth.Login(c.Context, oauth.LoginOptions{Provider: p, ClientID: c.String("client-id"), Tenant: c.String("tenant"),
		SecretFile: c.String("client-secret-file"), KeyFile: c.String("key-file"), User: c.String("user"), Out: c.App.ErrWriter})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, advice(p.Name))
	}
	if err := cache.Write(path); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "signed in with %s; the token (valid until %s) is cached in %s\nuse it with: --oauth2-cache %s\n",
		p.Name, cache.Token.Expiry.Format(time.RFC3339), path, path)
	return nil
}

func runAuthCheck(c *cli.Context) error {
	path, err := cachePath(c)
	if err != nil {
		return cli.Exit(err.Error(), exitStatusUsage)
	}
	cache, err := oauth.ReadCache(path)
	if err != nil {
		return err
	}
	src := &oauth.CachedSource{Path: path}
	if _, err := src.Token(c.Context); err != nil {
		return fmt.Errorf("%w\n%s", err, advice(cache.Provider))
	}
	cache, _ = oauth.ReadCache(path)
	fmt.Fprintf(c.App.Writer, "%s sign-in of client %s (%s): a token valid until %s\n", cache.Provider, cache.ClientID, cache.Flow,
		cache.Token.Expiry.Format(time.RFC3339))
	return nil
}

// advice says, in plain words, what an administrator sets up for each
// provider: what most failed sign-ins come down to.
func advice(provider string) string {
	switch provider {
	case "microsoft":
		return "check: the application is registered in Entra ID as a public client (\"Allow public client flows\"), with the\n" +
			"delegated permissions IMAP.AccessAsUser.All and POP.AccessAsUser.All (Office 365 Exchange Online) and\n" +
			"offline_access, and consented by the user or an administrator; IMAP is enabled for the mailbox."
	case "microsoft-app":
		return "check: the application has the application permission IMAP.AccessAsApp (Office 365 Exchange Online) with\n" +
			"admin consent; its service principal is registered in Exchange (New-ServicePrincipal -AppId <client ID>\n" +
			"-ObjectId <enterprise app object ID>) and given each mailbox (Add-MailboxPermission -Identity <mailbox>\n" +
			"-User <service principal> -AccessRights FullAccess); --tenant names the directory."
	case "google":
		return "check: the OAuth client is a Desktop app in Google Cloud, the Gmail API scope https://mail.google.com/ is on\n" +
			"its consent screen, and a test user is listed while the app is in testing; IMAP is on in Gmail's settings."
	case "google-service-account":
		return "check: the service account has domain-wide delegation: in the Admin console (Security > API controls >\n" +
			"Domain-wide delegation) its client ID is allowed the scope https://mail.google.com/; --user is a mailbox of\n" +
			"the domain; IMAP is on for that user."
	}
	return ""
}
