// Package mbox reads and writes mbox files (mboxrd: body lines that start with
// "From " after any number of ">" get one more ">") and directory trees of
// them as Thunderbird lays them out (A.sbd/ holds the children of A).
//
// It keeps every byte of a message as it was, except the headers that only
// mbox uses for flags (Status, X-Status, X-Keywords, X-UID, X-IMAP,
// X-IMAPbase), which it turns into flags on reading and writes from flags, as
// Dovecot does. Messages stream through; nothing holds a whole message.
package mbox
