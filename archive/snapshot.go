package archive

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mailferry/mailferry/format"
)

// SnapshotWriter records one export run's folders and messages. Records are
// spooled to a temporary file as they come, so a snapshot of any size takes
// bounded memory; Commit writes the snapshot file with its final header.
type SnapshotWriter struct {
	w      *Writer
	header format.Snapshot
	spool  *os.File
	enc    *format.SnapshotEncoder
}

// NewSnapshot starts a snapshot whose messages are stored through w.
func (w *Writer) NewSnapshot(h format.Snapshot) (*SnapshotWriter, error) {
	h.Version = w.a.config.Version
	f, err := os.CreateTemp(w.a.dir+"/"+dirTmp, "spool-")
	if err != nil {
		return nil, fmt.Errorf("snapshot spool: %w", err)
	}
	enc, err := format.NewSnapshotEncoder(f, h)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &SnapshotWriter{w: w, header: h, spool: f, enc: enc}, nil
}

// Folder records a folder; it must come before that folder's messages.
func (s *SnapshotWriter) Folder(f format.Folder) error { return s.enc.Folder(f) }

// Message records a message, whose bytes must have been Put through the
// snapshot's Writer.
func (s *SnapshotWriter) Message(m format.Message) error { return s.enc.Message(m) }

// SetDownloadedBytes records in the header what the run read from its
// source (format.Snapshot.DownloadedBytes); call it before Commit.
func (s *SnapshotWriter) SetDownloadedBytes(n int64) { s.header.DownloadedBytes = n }

// Commit flushes the Writer, so that every message the snapshot names is
// durable first, then stores the snapshot file and returns its id.
func (s *SnapshotWriter) Commit() (format.ID, error) {
	defer s.Abort()
	if err := s.enc.Close(); err != nil {
		return format.ID{}, fmt.Errorf("snapshot spool: %w", err)
	}
	if err := s.w.Flush(); err != nil {
		return format.ID{}, err
	}
	if s.header.Finished.IsZero() {
		s.header.Finished = time.Now()
	}
	if _, err := s.spool.Seek(0, io.SeekStart); err != nil {
		return format.ID{}, err
	}
	dec, err := format.NewSnapshotDecoder(s.spool)
	if err != nil {
		return format.ID{}, fmt.Errorf("snapshot spool: %w", err)
	}
	defer dec.Close()
	tf, err := s.w.a.newTempFile()
	if err != nil {
		return format.ID{}, err
	}
	defer tf.abort()
	enc, err := format.NewSnapshotEncoder(tf, s.header)
	if err != nil {
		return format.ID{}, err
	}
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return format.ID{}, fmt.Errorf("snapshot spool: %w", err)
		}
		if rec.Folder != nil {
			err = enc.Folder(*rec.Folder)
		} else {
			err = enc.Message(*rec.Message)
		}
		if err != nil {
			return format.ID{}, err
		}
	}
	if err := enc.Close(); err != nil {
		return format.ID{}, err
	}
	return tf.commit(dirSnapshots)
}

// Abort drops the snapshot; the messages already Put stay stored.
func (s *SnapshotWriter) Abort() {
	if s.spool != nil {
		s.spool.Close()
		os.Remove(s.spool.Name())
		s.spool = nil
	}
}

// ErrForgotten means a snapshot was removed by archive forget.
var ErrForgotten = errors.New("removed by archive forget")

// SnapshotInfo is a snapshot file's id and header.
type SnapshotInfo struct {
	ID format.ID
	format.Snapshot
}

// SnapshotProblem is a snapshot file whose header could not be read.
type SnapshotProblem struct {
	File format.ID
	Err  error
}

func (p SnapshotProblem) Error() string { return fmt.Sprintf("snapshot %s: %v", p.File, p.Err) }

// Snapshots returns every snapshot's header, oldest first. Damaged files are
// returned as problems; a file of a newer format version is an error.
func (a *Archive) Snapshots() ([]SnapshotInfo, []SnapshotProblem, error) {
	ids, _, err := a.listFiles(dirSnapshots)
	if err != nil {
		return nil, nil, err
	}
	var out []SnapshotInfo
	var problems []SnapshotProblem
	for _, id := range ids {
		h, err := a.snapshotHeader(id)
		if errors.Is(err, format.ErrNewerVersion) {
			return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
		}
		if err != nil {
			problems = append(problems, SnapshotProblem{File: id, Err: err})
			continue
		}
		out = append(out, SnapshotInfo{ID: id, Snapshot: h})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	return out, problems, nil
}

func (a *Archive) snapshotHeader(id format.ID) (format.Snapshot, error) {
	f, err := a.openFile(dirSnapshots, id)
	if err != nil {
		return format.Snapshot{}, err
	}
	defer f.Close()
	dec, err := format.NewSnapshotDecoder(f)
	if err != nil {
		return format.Snapshot{}, err
	}
	defer dec.Close()
	return dec.Header(), nil
}

// ReadSnapshot calls fn for each folder and message of a snapshot, in order.
func (a *Archive) ReadSnapshot(id format.ID, fn func(format.SnapshotRecord) error) error {
	f, err := a.openFile(dirSnapshots, id)
	if errors.Is(err, fs.ErrNotExist) {
		// Gone on purpose? Say so rather than "no such file".
		if forgotten, _, ferr := a.Forgotten(); ferr == nil {
			if s, ok := forgotten[id]; ok {
				return fmt.Errorf("snapshot %s of %s was forgotten (%s): %w", id.Short(), format.QuoteName(s.Account), s.Reason, ErrForgotten)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", id.Short(), err)
	}
	defer f.Close()
	dec, err := format.NewSnapshotDecoder(f)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", id.Short(), err)
	}
	defer dec.Close()
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", id.Short(), err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Accounts returns the accounts that have complete snapshots, sorted.
func Accounts(snaps []SnapshotInfo) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range snaps {
		if s.Complete && !seen[s.Account] {
			seen[s.Account] = true
			out = append(out, s.Account)
		}
	}
	sort.Strings(out)
	return out
}

// ErrAccountNeeded means the archive holds several accounts and the caller
// named none.
var ErrAccountNeeded = errors.New("choose one with --account")

// SelectSnapshot picks a complete snapshot: the one whose id starts with
// prefix if prefix is set, else the newest of account. An empty account is
// allowed when the archive holds a single account.
func SelectSnapshot(snaps []SnapshotInfo, account, prefix string) (SnapshotInfo, error) {
	if prefix != "" {
		var found []SnapshotInfo
		for _, s := range snaps {
			if strings.HasPrefix(s.ID.String(), strings.ToLower(prefix)) && (account == "" || s.Account == account) {
				found = append(found, s)
			}
		}
		switch len(found) {
		case 0:
			return SnapshotInfo{}, fmt.Errorf("no snapshot with id %q", prefix)
		case 1:
			return found[0], nil
		}
		return SnapshotInfo{}, fmt.Errorf("snapshot id %q is ambiguous: %d snapshots start with it", prefix, len(found))
	}
	if account == "" {
		accts := Accounts(snaps)
		switch len(accts) {
		case 0:
			return SnapshotInfo{}, errors.New("the archive holds no complete snapshot")
		case 1:
			account = accts[0]
		default:
			quoted := make([]string, len(accts))
			for i, a := range accts {
				quoted[i] = format.QuoteName(a)
			}
			return SnapshotInfo{}, fmt.Errorf("the archive holds %d accounts (%s): %w", len(accts), strings.Join(quoted, ", "), ErrAccountNeeded)
		}
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Account == account && snaps[i].Complete {
			return snaps[i], nil
		}
	}
	return SnapshotInfo{}, fmt.Errorf("no complete snapshot of account %s", format.QuoteName(account))
}
