package export

import (
	"context"
	"io"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// Source is a mailbox an export reads: a server account (IMAP, POP3) or a
// store on disk (Maildir, mbox). A source only reads; Run decides what is
// exported and records it.
type Source interface {
	// Describe says what kind of source this is and where, as the
	// snapshot records it (no password).
	Describe() format.Source
	// DefaultAccount is the account name snapshots get unless
	// Options.Account names one.
	DefaultAccount() string
	// List returns the source's folders.
	List(ctx context.Context) (Listing, error)
	// Examine opens a folder to read: it returns the folder with what
	// opening it tells (UIDVALIDITY, UIDNEXT, flags) and its messages in a
	// stable order, with what is known of them before their bytes are read.
	Examine(ctx context.Context, f format.Folder) (format.Folder, []Item, error)
	// NewReader returns a reader of message bytes. Run opens one per
	// connection (see Concurrent) and closes each when done.
	NewReader() MessageReader
	// Close releases what List and Examine held open.
	Close()
}

// Listing is what a source's List found.
type Listing struct {
	Folders []format.Folder
	// Namespace is the server's personal namespace, if it has one.
	Namespace *format.Namespace
	// Warnings say what the source could not tell but lost nothing.
	Warnings []string
	// Failures are folders the source found but cannot read.
	Failures []Failure
}

// Item is one message of a folder as a source lists it.
type Item struct {
	// UID is the IMAP UID, the POP3 message number, or the position in a
	// local folder (from 1).
	UID uint32
	// UIDL is POP3's unique id; empty elsewhere.
	UIDL string
	// Name says which message this is in reports: "uid 7", a file path.
	Name  string
	Size  int64
	Flags format.Flags
	// InternalDate is zero when the source could not tell it: the export
	// then takes the date from the message's headers (see messageDate).
	InternalDate time.Time
	DateSource   string
	// Err, when set, means the source cannot read this message; it is
	// reported and the rest go on.
	Err error
	// Warning, when set, is something the source could not tell of this
	// message that lost nothing (it is reported as a warning).
	Warning string
}

// MessageReader reads the bytes of a folder's messages.
type MessageReader interface {
	// Read hands each item's bytes, in order, to sink.Put, and items it
	// cannot read to sink.Fail. It returns only what must stop the export:
	// an error from Put that is not the source's, or ctx's.
	Read(ctx context.Context, f format.Folder, items []Item, sink Sink) error
	Close()
}

// Sink takes what a MessageReader reads.
type Sink interface {
	// Put stores one message read from r and records it. An error wrapping
	// *archive.SourceError came from reading r; any other stops the export.
	Put(ctx context.Context, f format.Folder, it Item, r io.Reader) error
	// Fail reports a message that could not be read.
	Fail(f format.Folder, it Item, err error)
	// Warn reports what lost nothing but should be known.
	Warn(msg string)
}

// Concurrent is a Source whose messages can be read over several
// connections at once (IMAP): Run then opens Options.Connections readers
// and hands them batches of messages.
type Concurrent interface {
	Source
	Concurrent()
}

// DeleterAfterExport is a Source that can delete what a committed snapshot
// holds (POP3, --delete-after-export).
type DeleterAfterExport interface {
	Source
	DeleteExported(ctx context.Context, a *archive.Archive, snapshot format.ID) error
}

// headerRecogniser is a Source that can find already stored messages by
// their header section when UIDs say nothing (IMAP after a UIDVALIDITY
// change): it returns the archive's ID per item index.
type headerRecogniser interface {
	recogniseByHeader(ctx context.Context, f format.Folder, items []Item, idx *archive.Index) (map[int]format.ID, error)
}
