package export

import (
	"fmt"
	"time"

	"github.com/mailferry/mailferry/format"
)

// Report says what an export did. Failures lists every message or folder
// that could not be exported; the export is complete only if it is empty.
type Report struct {
	Account  string    `json:"account"`
	Snapshot format.ID `json:"snapshot"`
	Folders  int       `json:"folders"`
	Messages int       `json:"messages"`
	Bytes    int64     `json:"bytes"`
	// Downloaded counts the messages whose bytes this run read from the
	// source (the others were known from earlier runs).
	Downloaded int64 `json:"downloaded"`
	// DownloadedBytes is the size of what this run read; Deferred counts
	// the messages a spent MaxBytesPerDay left for the next run.
	DownloadedBytes int64 `json:"downloaded_bytes"`
	Deferred        int   `json:"deferred,omitempty"`
	// NewMessages and NewBytes count what the archive did not hold before.
	NewMessages int64         `json:"new_messages"`
	NewBytes    int64         `json:"new_stored_bytes"`
	Duration    time.Duration `json:"duration_ns"`
	// DryRun says nothing was stored; Plan lists what an export would read.
	DryRun   bool         `json:"dry_run,omitempty"`
	Plan     []FolderPlan `json:"plan,omitempty"`
	Failures []Failure    `json:"failures,omitempty"`
	// Warnings are things a user should know that lost nothing, such as a
	// message expunged on the server while the export ran.
	Warnings []string `json:"warnings,omitempty"`
}

// Failure is one thing that could not be exported.
type Failure struct {
	Folder string `json:"folder"`
	Item   string `json:"item,omitempty"` // a message's UID, file or position
	Error  string `json:"error"`
}

// Complete reports whether everything was exported.
func (r *Report) Complete() bool { return len(r.Failures) == 0 }

func (r *Report) fail(folder, item string, err error) {
	r.Failures = append(r.Failures, Failure{Folder: folder, Item: item, Error: err.Error()})
}

func (r *Report) String() string {
	s := fmt.Sprintf("%s: %d folders, %d messages (%d bytes), %d new; snapshot %s", r.Account, r.Folders, r.Messages, r.Bytes, r.NewMessages, r.Snapshot.Short())
	if n := len(r.Failures); n > 0 {
		s += fmt.Sprintf("; %d FAILED", n)
	}
	return s
}
