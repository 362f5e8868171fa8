// Package local extracts an archive snapshot into a mail store on disk:
// Maildir++, a directory of mbox files, or one .eml file per message.
// It writes only there; importing into a server is package importer's work.
package local
