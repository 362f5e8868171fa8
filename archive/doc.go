// Package archive stores messages and snapshots in an archive directory and
// reads and verifies them: content-addressed, append-only, crash-safe, and
// safe for several writers at once. format/SPEC.md describes the files.
//
// It knows nothing of IMAP, POP3 or mail stores: sources hand it bytes and
// records (package export), destinations read them back (package importer).
package archive
