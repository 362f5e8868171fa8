// Package importer replays archive snapshots into destinations: IMAP servers
// (with folder mapping, transforms and an exactly-once manifest) and local
// stores (Maildir, mbox, .eml files) for extraction.
//
// It reads the archive only through package archive and never talks to a
// source.
package importer
