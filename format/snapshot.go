package format

import "time"

// Source kinds: where a snapshot's messages came from.
const (
	SourceIMAP    = "imap"
	SourcePOP3    = "pop3"
	SourceMaildir = "maildir"
	SourceMbox    = "mbox"
)

// Where an internal date came from, for sources that have none of their own.
const (
	DateFromServer   = ""         // the server's INTERNALDATE (IMAP)
	DateFromMtime    = "mtime"    // Maildir: the file's modification time
	DateFromFromLine = "fromline" // mbox: the From_ separator line
	DateFromReceived = "received" // POP3: the newest Received: header
	DateFromHeader   = "date"     // POP3: the Date: header
	DateFromExport   = "export"   // POP3: the time of the export
)

// Snapshot is the first record of a snapshot file: one export run of one
// account. Its folders and messages follow it in the file.
type Snapshot struct {
	Version int    `json:"version"`
	Account string `json:"account"`
	Source  Source `json:"source"`
	// Run identifies the export run; the checkpoints of one run share it.
	Run      string    `json:"run"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Complete is false for a checkpoint written while a run was still going:
	// it lists what that run had stored so far, for resuming.
	Complete bool `json:"complete"`
	// Parent is the account's latest complete snapshot when this one began,
	// so that verify can tell when a snapshot file has gone missing.
	Parent *ID `json:"parent,omitempty"`
	// Tool is the mailferry version that wrote the snapshot.
	Tool string `json:"tool,omitempty"`
	// Namespace is the source's personal namespace (IMAP NAMESPACE), when
	// the source has one: an importer strips its prefix and delimiter and
	// puts the destination's in their place.
	Namespace *Namespace `json:"namespace,omitempty"`
	// Repaired is set on a snapshot that archive repair wrote from the
	// complete records of a damaged snapshot file.
	Repaired *Repaired `json:"repaired,omitempty"`
	// DownloadedBytes is how many bytes the run had read from the source
	// (so far, on a checkpoint): a daily download budget (Gmail's) counts
	// the runs of the day by it.
	DownloadedBytes int64 `json:"downloaded_bytes,omitempty"`
}

// Repaired says where a repaired snapshot came from. Such a snapshot is
// never Complete, since records of its run may be missing: it is read by
// its id, and the account's state stays with its complete snapshots.
type Repaired struct {
	// From is the id of the damaged file; its records past the damage are lost.
	From ID        `json:"from"`
	Time time.Time `json:"time"`
	// Complete is what the damaged file's header said.
	Complete bool `json:"complete"`
	// Folders and Messages count the records kept.
	Folders  int `json:"folders"`
	Messages int `json:"messages"`
}

// Namespace is an IMAP personal namespace: folder names start with Prefix
// (such as "INBOX." on Courier and Cyrus, "" on Dovecot) and their levels
// are joined by Delimiter.
type Namespace struct {
	Prefix    string `json:"prefix"`
	Delimiter string `json:"delimiter"`
}

// Source says where an account's mail was read from. It never holds a password.
type Source struct {
	Kind string `json:"kind"`
	// Endpoint is a URL (imap://user@host:143) or a path, without credentials.
	Endpoint string `json:"endpoint"`
}

// Folder is a mailbox of a snapshot with its metadata.
type Folder struct {
	// Name is the full name in UTF-8, its levels joined by Delimiter.
	Name string `json:"name"`
	// RawName says Name is the name exactly as the server sent it, not
	// modified UTF-7 decoded: it was not valid modified UTF-7, or it was
	// raw 8-bit UTF-8 the server knows only so.
	RawName bool `json:"raw_name,omitempty"`
	// Delimiter is the hierarchy delimiter, "" for a flat namespace.
	Delimiter string `json:"delimiter"`
	// Attributes are the LIST attributes such as \Noselect and \HasChildren.
	Attributes []string `json:"attributes,omitempty"`
	// SpecialUse is \Sent, \Drafts, \Trash, \Junk, \Archive, \All, \Flagged or "".
	SpecialUse     string   `json:"special_use,omitempty"`
	Subscribed     bool     `json:"subscribed"`
	UIDValidity    uint32   `json:"uidvalidity,omitempty"`
	UIDNext        uint32   `json:"uidnext,omitempty"`
	PermanentFlags []string `json:"permanent_flags,omitempty"`
	// Flags are the flags and keywords the folder defines (IMAP FLAGS).
	// An export only EXAMINEs, to change nothing on the source, and a
	// read-only selection reports no PERMANENTFLAGS; FLAGS still names
	// the custom keywords in use.
	Flags []string `json:"flags,omitempty"`
}

// Message is one message record: a message as it sat in one folder.
// Two identical messages in one folder are two records with the same ID.
type Message struct {
	Folder string `json:"folder"`
	UID    uint32 `json:"uid,omitempty"`
	// UIDL is the POP3 unique id, for POP3 sources.
	UIDL string `json:"uidl,omitempty"`
	// ID is the SHA-256 of the message's exact bytes, its blob in the archive.
	ID    ID    `json:"id"`
	Size  int64 `json:"size"`
	Flags Flags `json:"flags"`
	// InternalDate keeps the zone offset the source gave.
	InternalDate time.Time `json:"internal_date"`
	// DateSource says where InternalDate came from; see the DateFrom constants.
	DateSource string `json:"date_source,omitempty"`
}

// HasAttribute reports whether the folder has the LIST attribute attr.
func (f *Folder) HasAttribute(attr string) bool {
	for _, a := range f.Attributes {
		if equalFoldASCII(a, attr) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
