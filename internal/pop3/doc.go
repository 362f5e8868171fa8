// Package pop3 is a POP3 client (RFC 1939) with CAPA (RFC 2449), STLS
// (RFC 2595), APOP, USER/PASS and AUTH PLAIN (RFC 5034), whose Retr streams a
// message with dot-stuffing undone and every other byte as the server sent it.
//
// A server is not trusted: each read and write has a deadline (WithTimeout,
// a *SilenceError when it runs out), and lines and listings are capped
// (ErrLimit) before they take memory; an IMAP greeting is named as such
// (ErrIMAPGreeting).
//
// It speaks the protocol and nothing more: it does not pick endpoints, store
// passwords, reconnect or decide which messages to fetch. One Client runs one
// command at a time; calls from several goroutines wait for each other.
package pop3
