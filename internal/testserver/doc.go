// Package testserver starts mail servers for tests: a private Dovecot (IMAP,
// IMAPS, POP3, POP3S) on loopback, go-imap's in-memory IMAP server
// (internal/memimap), and a TCP proxy that cuts connections on purpose.
//
// Everything lives in temporary directories and on 127.0.0.1 and is torn down
// by t.Cleanup; nothing under /etc or any system Dovecot is touched. The
// package is for tests only.
package testserver
