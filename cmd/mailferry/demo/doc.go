// Package demo runs mailferry's whole job on loopback with nothing to set
// up: two in-memory IMAP servers (go-imap's imapmemserver), the first
// filled from the embedded sample mail, exported to an archive, imported
// into the second, and verified. `mailferry demo` calls it.
package demo
