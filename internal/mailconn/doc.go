// Package mailconn turns an endpoint URL and options into a logged-in IMAP
// client: URL parsing, passwords, TLS (implicit and STARTTLS), LOGIN and SASL
// PLAIN (with admin authorization), plus reconnect backoff and throttling,
// the Appender, a connection that streams APPENDs, and the RawConn, one on
// which the caller speaks IMAP itself where go-imap cannot (a folder name
// that is not valid modified UTF-7). No server is trusted to behave: every
// read and write has a deadline (Options.Timeout), a connection is closed
// when its Dial's context ends, and what a server sends is capped before
// memory is spent on it (responseGuard, and the RawConn's tokenizer).
//
// It is shared by export and importer and knows nothing about either: it
// does not fetch (a RawConn only sends and tokenizes what its caller
// asks), and appends what it is given. POP3 endpoints are parsed
// here, but the POP3 client lives elsewhere.
package mailconn
