// Package export reads mailboxes from their sources (IMAP, POP3, Maildir,
// mbox) and stores them into an archive as a snapshot of the account.
//
// It never writes to a source, and knows the archive only through package
// archive's Writer and SnapshotWriter.
package export
