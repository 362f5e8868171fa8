// Package export reads mailboxes from their sources (IMAP, POP3, Maildir,
// mbox: each a Source) and stores them into an archive as a snapshot of the
// account, through one Run that selects folders, skips what is stored
// already, checkpoints, reports progress and failures, or only plans (dry
// run).
//
// It never writes to a source (unless asked to delete what POP3 exported),
// and knows the archive only through package archive's Writer and
// SnapshotWriter.
package export
