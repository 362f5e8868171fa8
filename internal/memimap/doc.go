// Package memimap runs go-imap's in-memory IMAP server on 127.0.0.1 for the
// demo and for tests: logins without TLS, "/" as separator, no prefix, and
// every user starting with a subscribed INBOX.
//
// It does not persist anything or speak TLS; real-server behaviour belongs
// to the Dovecot that internal/testserver starts.
package memimap
