// Package maildir reads and writes Maildir++ trees as Dovecot and Courier lay
// them out: folders as .Name directories in modified UTF-7, flags in file
// names, keywords in dovecot-keywords, subscriptions in the subscriptions file.
//
// It is the one place that knows these conventions: export reads through it
// and the importer writes through it. It does not keep or read Dovecot's index
// files (dovecot-uidlist, dovecot.index*), and it takes no locks against a
// Dovecot writing the same tree at the same time.
package maildir
