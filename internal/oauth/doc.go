// Package oauth provides OAuth2 access tokens for IMAP and POP3 sign-in
// (SASL XOAUTH2 and OAUTHBEARER): token sources read at every (re)connect
// (a file, a command, a cache of a sign-in that refreshes itself before
// the token expires) and the providers' sign-in flows (device code, loopback
// redirect with PKCE, client credentials, a service account's signed JWT).
//
// It never prints or logs a token; the cache file is private (0600).
package oauth
