package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/internal/progress"
)

// Options apply to every export, whatever its source.
type Options struct {
	// Account overrides the account name (default: the source's
	// DefaultAccount).
	Account string
	// Tool is the mailferry version recorded in the snapshot.
	Tool string
	// CheckpointEvery is how often progress is made durable for resuming;
	// DefaultCheckpointEvery if zero.
	CheckpointEvery time.Duration
	// Writer tunes the archive writer (compression level, frame size).
	Writer archive.WriterOptions
	// Filter selects folders by name.
	Filter FolderFilter
	// DryRun lists what an export would read (Report.Plan) and changes
	// nothing, neither the source nor the archive.
	DryRun bool
	// Connections is how many connections read at once from a Concurrent
	// source (default 4); other sources take one.
	Connections int
	// Throttle, if set, paces reading.
	Throttle Throttle
	// Progress, if set, is updated as the export goes.
	Progress *progress.Progress
	// DeleteAfterExport removes the exported messages from a source that
	// can (DeleterAfterExport), once the snapshot naming them is
	// committed and each has been read back from the archive intact.
	DeleteAfterExport bool
	// MaxBytesPerDay stops downloading, in order, once this many bytes
	// were read from the source today (UTC), counting the day's earlier
	// runs of the account made with a budget (their checkpoints record
	// it): Gmail lets about 2,500 MB a day be read over IMAP. The run then
	// ends with ErrBudgetSpent, keeping what it stored, and the next run
	// carries on. 0: no budget.
	MaxBytesPerDay int64
}

// ErrBudgetSpent ends a run whose MaxBytesPerDay is spent: what it stored
// is kept in a checkpoint; the messages left wait for the next run.
var ErrBudgetSpent = errors.New("the daily download budget (--max-bytes-per-day) is spent")

// Throttle paces reading: messages per second and bytes per second.
type Throttle interface {
	WaitMessage(ctx context.Context) error
	Reader(ctx context.Context, r io.Reader) io.Reader
}

// UnsupportedError is an option the source cannot honour. Run refuses it
// rather than ignore it.
type UnsupportedError struct {
	Option string // as Options names it
	Source string // the source's kind
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s does not apply to %s sources", e.Option, e.Source)
}

// check refuses options the source cannot honour and fills in defaults.
func (o *Options) check(src Source) error {
	kind := src.Describe().Kind
	if _, ok := src.(DeleterAfterExport); o.DeleteAfterExport && !ok {
		return &UnsupportedError{Option: "DeleteAfterExport", Source: kind}
	}
	if _, ok := src.(Concurrent); ok {
		if o.Connections <= 0 {
			o.Connections = 4
		}
	} else if o.Connections > 1 {
		return &UnsupportedError{Option: "Connections", Source: kind}
	} else {
		o.Connections = 1
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	if o.Progress == nil {
		o.Progress = new(progress.Progress)
	}
	return nil
}
