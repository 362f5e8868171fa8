// Package importer replays archive snapshots into IMAP servers, with an
// exactly-once manifest; folder names come from package foldermap, message
// bytes from package transform, and local stores are package local's.
//
// It reads the archive only through package archive and never talks to a
// source.
package importer
