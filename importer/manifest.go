package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailferry/mailferry/format"
)

// The manifest is the import's memory of one destination (host as given,
// port, user): which snapshot record went to which destination folder and
// got which UID, with what bytes and flags. It is a cache of the
// destination, never trusted over it: each run checks every folder's
// UIDVALIDITY and which recorded UIDs still exist before it believes a
// record is there. It is an append-only file of JSON lines, so a kill at
// any instant loses at most a half-written last line, which loading
// ignores:
//
//	{"intent":{...}}   written and synced before each APPEND
//	{"done":{...}}     after the APPEND, with the UID the server gave
//	{"abandon":{...}}  the record is no longer in that folder (the APPEND
//	                   did not land, or --delete expunged it)
//	{"skip":{...}}     the record was skipped on purpose (--max-size)
//	{"flags":{...}}    the record's flags were updated on the destination
//	{"run":{...}}      an import run: its snapshot and folder map, which
//	                   verify reads instead of asking for the options again
//
// An intent without an outcome is settled on the next run by looking at the
// destination: the APPEND either landed (at a UID at or above the UIDNEXT
// noted with the intent, with the bytes whose hash was noted) or it did not.

// ErrManifestBusy means another import into the same destination holds
// the manifest.
var ErrManifestBusy = errors.New("another import into this destination is running (its manifest is locked)")

// ManifestEntry is what the manifest knows of one snapshot record in one
// destination folder. The same record imported into two folders (a plain
// import, then one --into T2) is two entries.
type ManifestEntry struct {
	Key string `json:"key"`
	// Folder is the destination folder.
	Folder string `json:"folder"`
	// Blob is the archive's message; Sent the SHA-256 and Size of the
	// bytes appended, which transforms and CRLF line ends may have changed.
	Blob format.ID `json:"blob"`
	Sent format.ID `json:"sent"`
	Size int64     `json:"size"`
	// Binary says the message went in a BINARY literal (it holds NUL).
	Binary bool `json:"binary,omitempty"`
	// Flags are the flags the destination was given (APPEND, then any
	// later flag update).
	Flags format.Flags `json:"flags,omitempty"`
	// UIDValidity and UIDNext are the folder's when the intent was
	// written.
	UIDValidity uint32 `json:"uidvalidity"`
	UIDNext     uint32 `json:"uidnext"`
	// UID is the destination UID once done (0: the server has no UIDPLUS).
	UID  uint32 `json:"uid,omitempty"`
	Done bool   `json:"-"`
	// Skip, on a record skipped on purpose, says why (nothing was sent).
	Skip string `json:"-"`
}

// outcome is a line about an entry written before.
type outcome struct {
	Key         string       `json:"key"`
	Folder      string       `json:"folder"`
	UID         uint32       `json:"uid,omitempty"`
	UIDValidity uint32       `json:"uidvalidity,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Flags       format.Flags `json:"flags,omitempty"`
	// Day and Bytes, on the done line of an APPEND, say how much was sent
	// on which UTC day, for --max-bytes-per-day.
	Day   string `json:"day,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
}

// Run is what an import run records of itself: the snapshot replayed and
// where each source folder went, so that verify needs no options repeated.
type Run struct {
	Snapshot format.ID   `json:"snapshot"`
	Account  string      `json:"account"`
	Time     time.Time   `json:"time"`
	Folders  []RunFolder `json:"folders"`
	Delete   bool        `json:"delete,omitempty"`
}

// RunFolder is one source folder's destination in a Run ("" when the
// folder was left out).
type RunFolder struct {
	Source string `json:"source"`
	Dest   string `json:"dest,omitempty"`
}

// Manifest is an open, locked manifest file. Its methods are safe for
// concurrent use.
type Manifest struct {
	path string
	f    *os.File

	mu      sync.Mutex
	entries map[entryKey]*ManifestEntry
	runs    []Run
	sentOn  map[string]int64 // bytes appended by UTC day
	written int64            // lines written
	synced  int64            // lines known durable
	syncMu  sync.Mutex
}

type entryKey struct{ key, folder string }

// RecordKey names a snapshot record for the manifest: the account, the
// source folder and its UIDVALIDITY, and the source UID or POP3 UIDL. Two
// identical messages in one folder are two records with two keys.
func RecordKey(account string, folder format.Folder, m format.Message) string {
	id := fmt.Sprintf("uid:%d", m.UID)
	if m.UIDL != "" {
		id = "uidl:" + m.UIDL
	}
	return fmt.Sprintf("%s\x1f%s\x1f%d\x1f%s", account, folder.Name, folder.UIDValidity, id)
}

// recordAccount returns the account part of a RecordKey.
func recordAccount(key string) string {
	a, _, _ := strings.Cut(key, "\x1f")
	return a
}

// recordFolder returns the source folder part of a RecordKey.
func recordFolder(key string) string {
	_, rest, _ := strings.Cut(key, "\x1f")
	f, _, _ := strings.Cut(rest, "\x1f")
	return f
}

// OpenManifest opens (creating it if needed) and locks the manifest at
// path, and loads it.
func OpenManifest(path string) (*Manifest, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("manifest %s: %w", path, ErrManifestBusy)
		}
		return nil, fmt.Errorf("manifest %s: lock: %w", path, err)
	}
	m := &Manifest{path: path, f: f, entries: map[entryKey]*ManifestEntry{}, sentOn: map[string]int64{}}
	if err := m.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return m, nil
}

// Path is the manifest's file.
func (m *Manifest) Path() string { return m.path }

type manifestLine struct {
	Intent  *ManifestEntry `json:"intent,omitempty"`
	Done    *outcome       `json:"done,omitempty"`
	Abandon *outcome       `json:"abandon,omitempty"`
	Skip    *outcome       `json:"skip,omitempty"`
	Flags   *outcome       `json:"flags,omitempty"`
	Run     *Run           `json:"run,omitempty"`
}

func (m *Manifest) load() error {
	if _, err := m.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(m.f, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			// A last line without its newline was being written when
			// the importer died: it never took effect.
			return m.dropPartialTail(len(line))
		}
		if err != nil {
			return err
		}
		var rec manifestLine
		if err := json.Unmarshal(bytes.TrimSpace(line), &rec); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if !m.apply(rec) {
			return fmt.Errorf("line %d: no intent, done, abandon, skip, flags or run record", n)
		}
		m.written++
	}
}

// apply changes the in-memory state as one line says; false for a line
// that says nothing.
func (m *Manifest) apply(rec manifestLine) bool {
	switch {
	case rec.Intent != nil:
		e := *rec.Intent
		e.Done, e.Skip = false, ""
		m.entries[entryKey{e.Key, e.Folder}] = &e
	case rec.Done != nil:
		if rec.Done.Day != "" {
			m.sentOn[rec.Done.Day] += rec.Done.Bytes
		}
		if e := m.entries[entryKey{rec.Done.Key, rec.Done.Folder}]; e != nil {
			e.Done, e.UID = true, rec.Done.UID
			if rec.Done.UIDValidity != 0 {
				e.UIDValidity = rec.Done.UIDValidity
			}
		}
	case rec.Abandon != nil:
		delete(m.entries, entryKey{rec.Abandon.Key, rec.Abandon.Folder})
	case rec.Skip != nil:
		m.entries[entryKey{rec.Skip.Key, rec.Skip.Folder}] = &ManifestEntry{Key: rec.Skip.Key, Folder: rec.Skip.Folder, Skip: rec.Skip.Reason}
	case rec.Flags != nil:
		if e := m.entries[entryKey{rec.Flags.Key, rec.Flags.Folder}]; e != nil {
			e.Flags = rec.Flags.Flags
		}
	case rec.Run != nil:
		m.runs = append(m.runs, *rec.Run)
	default:
		return false
	}
	return true
}

// dropPartialTail cuts a half-written last line, so the next line starts
// on a line of its own.
func (m *Manifest) dropPartialTail(n int) error {
	if n == 0 {
		return nil
	}
	st, err := m.f.Stat()
	if err != nil {
		return err
	}
	return m.f.Truncate(st.Size() - int64(n))
}

// Lookup returns the manifest's entry for a record in a destination folder.
func (m *Manifest) Lookup(key, folder string) (ManifestEntry, bool) {
	if m == nil {
		return ManifestEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[entryKey{key, folder}]
	if !ok {
		return ManifestEntry{}, false
	}
	return *e, true
}

// Pending returns the intents that have no outcome yet.
func (m *Manifest) Pending() []ManifestEntry {
	return m.filter(func(e *ManifestEntry) bool { return !e.Done && e.Skip == "" })
}

// In returns the entries of a destination folder that were appended.
func (m *Manifest) In(folder string) []ManifestEntry {
	return m.filter(func(e *ManifestEntry) bool { return e.Done && e.Folder == folder })
}

func (m *Manifest) filter(keep func(*ManifestEntry) bool) []ManifestEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ManifestEntry
	for _, e := range m.entries {
		if keep(e) {
			out = append(out, *e)
		}
	}
	return out
}

// LastRun returns the latest run recorded for account ("" for any).
func (m *Manifest) LastRun(account string) (Run, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.runs) - 1; i >= 0; i-- {
		if account == "" || m.runs[i].Account == account {
			return m.runs[i], true
		}
	}
	return Run{}, false
}

// Intents records that es are about to be appended, and returns once that
// is on disk: only then may the APPENDs go out. Concurrent callers share
// one fsync.
func (m *Manifest) Intents(es []ManifestEntry) error {
	if len(es) == 0 {
		return nil
	}
	var seq int64
	for _, e := range es {
		var err error
		if seq, err = m.write(manifestLine{Intent: &e}); err != nil {
			return err
		}
	}
	return m.syncTo(seq)
}

// Done records the outcome of an APPEND. It is not synced at once: if it
// is lost, the intent is settled on the next run.
func (m *Manifest) Done(key, folder string, uid, uidValidity uint32) error {
	_, err := m.write(manifestLine{Done: &outcome{Key: key, Folder: folder, UID: uid, UIDValidity: uidValidity}})
	return err
}

// Appended records the outcome of an APPEND of size bytes today, which
// counts against a daily byte budget.
func (m *Manifest) Appended(key, folder string, uid, uidValidity uint32, size int64) error {
	_, err := m.write(manifestLine{Done: &outcome{Key: key, Folder: folder, UID: uid, UIDValidity: uidValidity, Day: today(), Bytes: size}})
	return err
}

// SentToday is how many bytes APPENDs recorded in this manifest sent
// today (UTC).
func (m *Manifest) SentToday() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sentOn[today()]
}

// today is the UTC day, as the daily byte budget counts (a variable for
// tests that cross midnight).
var today = func() string { return time.Now().UTC().Format("2006-01-02") }

// Found records that the record is in folder already, at e.UID, though
// no manifest said so (found by content). Nothing is sent, so nothing
// needs syncing: if the lines are lost, the next run finds it again.
func (m *Manifest) Found(e ManifestEntry) error {
	if _, err := m.write(manifestLine{Intent: &e}); err != nil {
		return err
	}
	return m.Done(e.Key, e.Folder, e.UID, e.UIDValidity)
}

// Abandon records that the record is not in folder (its APPEND did not
// land or failed, or it was expunged): the record is new again there.
func (m *Manifest) Abandon(key, folder string) error {
	_, err := m.write(manifestLine{Abandon: &outcome{Key: key, Folder: folder}})
	return err
}

// Skipped records that the record was left out on purpose, and why.
func (m *Manifest) Skipped(key, folder, reason string) error {
	_, err := m.write(manifestLine{Skip: &outcome{Key: key, Folder: folder, Reason: reason}})
	return err
}

// FlagsSet records the flags a record now has on the destination.
func (m *Manifest) FlagsSet(key, folder string, flags format.Flags) error {
	_, err := m.write(manifestLine{Flags: &outcome{Key: key, Folder: folder, Flags: flags}})
	return err
}

// StartRun records an import run, synced.
func (m *Manifest) StartRun(r Run) error {
	seq, err := m.write(manifestLine{Run: &r})
	if err != nil {
		return err
	}
	return m.syncTo(seq)
}

func (m *Manifest) write(rec manifestLine) (int64, error) {
	line, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.f.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("manifest %s: %w", m.path, err)
	}
	m.apply(rec)
	m.written++
	return m.written, nil
}

// syncTo returns once line seq is durable.
func (m *Manifest) syncTo(seq int64) error {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.mu.Lock()
	if m.synced >= seq {
		m.mu.Unlock()
		return nil
	}
	upTo := m.written
	m.mu.Unlock()
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("manifest %s: %w", m.path, err)
	}
	m.mu.Lock()
	m.synced = upTo
	m.mu.Unlock()
	return nil
}

// Close syncs and unlocks the manifest.
func (m *Manifest) Close() error {
	err := m.f.Sync()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Destination is what a manifest belongs to: one user on one server, the
// host exactly as given (so 127.0.0.1 and localhost are two destinations,
// which the content check keeps from duplicating each other's mail).
type Destination struct {
	Host string
	Port int
	User string
}

// DefaultManifestPath is where an import into dest keeps its manifest when
// --manifest is not given: inside the archive directory, under a readable
// name plus a hash of the exact identity, so that users whose names differ
// only in characters a file name cannot hold (a_b and a=b) never share one.
func DefaultManifestPath(archiveDir string, dest Destination) string {
	id := dest.User + "\x00" + dest.Host + "\x00" + strconv.Itoa(dest.Port)
	sum := sha256.Sum256([]byte(id))
	readable := sanitizeFileName(dest.User + "@" + dest.Host + "_" + strconv.Itoa(dest.Port))
	if len(readable) > 80 {
		readable = readable[:80]
	}
	return filepath.Join(archiveDir, "manifests", readable+"-"+hex.EncodeToString(sum[:8])+".jsonl")
}

func sanitizeFileName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '@' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
