package importer

import (
	"maps"
	"slices"
	"time"
)

// ImportReport says what an import did, in the same snake_case words in
// text and JSON. The import is complete when Failed is empty.
type ImportReport struct {
	Account  string `json:"account"`
	Snapshot string `json:"snapshot"`
	// Destination is the server and user, without any secret.
	Destination string `json:"destination"`
	Manifest    string `json:"manifest,omitempty"`
	// Appended counts messages appended for the first time; Restored those
	// appended again because the destination lost them (a wiped user, a
	// recreated or emptied folder); RestoredWhy says why, per folder.
	Appended    int            `json:"appended"`
	Restored    int            `json:"restored"`
	RestoredWhy map[string]int `json:"restored_why,omitempty"`
	// AlreadyThere counts messages an earlier run appended that the
	// destination still holds (checked by UID, not taken from the
	// manifest alone).
	AlreadyThere int `json:"already_there"`
	// Settled counts messages an interrupted run had appended without
	// recording it, found on the destination and recorded now.
	Settled int `json:"settled"`
	// DuplicatesSkipped counts messages found in the destination folder
	// already, though no manifest said so: by content (or by Message-ID
	// with --dedup message-id).
	DuplicatesSkipped int `json:"duplicates_skipped"`
	// FlagsUpdated counts messages whose flags a newer snapshot changed;
	// Deleted those --delete expunged because the snapshot no longer has
	// them.
	FlagsUpdated int `json:"flags_updated"`
	Deleted      int `json:"deleted"`
	// Skipped lists messages left out on purpose, SkippedByReason counts
	// them per reason.
	Skipped         []Item         `json:"skipped,omitempty"`
	SkippedByReason map[string]int `json:"skipped_by_reason,omitempty"`
	// Transformed counts, per kind of change, the messages a transform
	// changed; TransformedItems names each (kind, message).
	Transformed map[string]int `json:"transformed,omitempty"`
	// Failed lists every message (or folder) that did not get where it
	// should, with the reason.
	Failed   []Item        `json:"failed,omitempty"`
	Bytes    int64         `json:"bytes"`
	Created  []string      `json:"created_folders,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Deferred counts the messages (DeferredBytes their size) left for the
	// next run because the daily byte budget was spent.
	Deferred      int   `json:"deferred,omitempty"`
	DeferredBytes int64 `json:"deferred_bytes,omitempty"`
	// Throttled counts the answers that asked the import to slow down
	// (Office 365's "Request is throttled"), ThrottleWait the time waited
	// for them; those messages were sent again, not failed.
	Throttled    int           `json:"throttled,omitempty"`
	ThrottleWait time.Duration `json:"throttle_wait_ns,omitempty"`
	// ArchiveDamage is set when a failure came from damaged archive data.
	ArchiveDamage bool `json:"archive_damage,omitempty"`
}

// Item is one message (or folder) a report names.
type Item struct {
	// Folder is the source folder, Dest the destination one.
	Folder string `json:"folder"`
	Dest   string `json:"dest,omitempty"`
	// UID or UIDL is the message's in the source; Message the archive ID.
	UID     uint32 `json:"uid,omitempty"`
	UIDL    string `json:"uidl,omitempty"`
	Message string `json:"message,omitempty"`
	// Reason is why: the server's words, the transform's, the archive's.
	Reason string `json:"reason"`
}

// Complete reports whether every message landed (or was left out on
// purpose), none failed and none waits for another day.
func (r *ImportReport) Complete() bool { return len(r.Failed) == 0 && r.Deferred == 0 }

// Reasons returns map keys in a stable order, for printing.
func Reasons(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
