package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/mailferry/mailferry/format"
)

// The manifest is the import's memory for one destination (server, user):
// which snapshot record went to which folder and got which UID. It is an
// append-only file of JSON lines, so a kill at any instant loses at most a
// half-written last line, which loading ignores:
//
//	{"intent":{...}}   written and synced before each APPEND
//	{"done":{...}}     after the APPEND, with the UID the server gave
//	{"abandon":{...}}  when a settled intent is found not to have landed
//
// An intent without an outcome is settled on the next run by looking at the
// destination: the APPEND either landed (at a UID at or above the UIDNEXT
// noted with the intent, with the bytes whose hash was noted) or it did not.

// ErrManifestBusy means another import into the same destination holds
// the manifest.
var ErrManifestBusy = errors.New("another import into this destination is running (its manifest is locked)")

// ManifestEntry is what the manifest knows of one snapshot record.
type ManifestEntry struct {
	Key string `json:"key"`
	// Blob is the archive's message; Sent the SHA-256 and Size of the
	// bytes appended, which transforms may have changed.
	Blob format.ID `json:"blob"`
	Sent format.ID `json:"sent"`
	Size int64     `json:"size"`
	// Folder is the destination folder; UIDValidity and UIDNext are the
	// folder's when the intent was written.
	Folder      string `json:"folder"`
	UIDValidity uint32 `json:"uidvalidity"`
	UIDNext     uint32 `json:"uidnext"`
	// UID is the destination UID once done (0: the server has no UIDPLUS).
	UID  uint32 `json:"uid,omitempty"`
	Done bool   `json:"-"`
}

type outcome struct {
	Key         string `json:"key"`
	UID         uint32 `json:"uid,omitempty"`
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
}

// Manifest is an open, locked manifest file. Its methods are safe for
// concurrent use.
type Manifest struct {
	path string
	f    *os.File

	mu      sync.Mutex
	entries map[string]*ManifestEntry
	written int64 // lines written
	synced  int64 // lines known durable
	syncMu  sync.Mutex
}

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

// OpenManifest opens (creating it if needed) and locks the manifest at
// path, and loads it.
func OpenManifest(path string) (*Manifest, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
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
	m := &Manifest{path: path, f: f, entries: map[string]*ManifestEntry{}}
	if err := m.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return m, nil
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
		var rec struct {
			Intent  *ManifestEntry `json:"intent"`
			Done    *outcome       `json:"done"`
			Abandon *outcome       `json:"abandon"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(line), &rec); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		switch {
		case rec.Intent != nil:
			e := *rec.Intent
			m.entries[e.Key] = &e
		case rec.Done != nil:
			if e := m.entries[rec.Done.Key]; e != nil {
				e.Done, e.UID = true, rec.Done.UID
				if rec.Done.UIDValidity != 0 {
					e.UIDValidity = rec.Done.UIDValidity
				}
			}
		case rec.Abandon != nil:
			delete(m.entries, rec.Abandon.Key)
		default:
			return fmt.Errorf("line %d: no intent, done or abandon record", n)
		}
		m.written++
	}
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

// Lookup returns the manifest's entry for a record key.
func (m *Manifest) Lookup(key string) (ManifestEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return ManifestEntry{}, false
	}
	return *e, true
}

// Pending returns the intents that have no outcome yet.
func (m *Manifest) Pending() []ManifestEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ManifestEntry
	for _, e := range m.entries {
		if !e.Done {
			out = append(out, *e)
		}
	}
	return out
}

// Intent records that e is about to be appended, and returns once that is
// on disk: only then may the APPEND go out. Concurrent intents share one
// fsync.
func (m *Manifest) Intent(e ManifestEntry) error {
	e.Done = false
	seq, err := m.write("intent", e, func() { m.entries[e.Key] = &e })
	if err != nil {
		return err
	}
	return m.syncTo(seq)
}

// Intents records several intents with one fsync.
func (m *Manifest) Intents(es []ManifestEntry) error {
	var seq int64
	for _, e := range es {
		e.Done = false
		var err error
		if seq, err = m.write("intent", e, func() { m.entries[e.Key] = &e }); err != nil {
			return err
		}
	}
	if len(es) == 0 {
		return nil
	}
	return m.syncTo(seq)
}

// Done records the outcome of an APPEND. It is not synced at once: if it
// is lost, the intent is settled on the next run.
func (m *Manifest) Done(key string, uid, uidValidity uint32) error {
	_, err := m.write("done", outcome{Key: key, UID: uid, UIDValidity: uidValidity}, func() {
		if e := m.entries[key]; e != nil {
			e.Done, e.UID = true, uid
			if uidValidity != 0 {
				e.UIDValidity = uidValidity
			}
		}
	})
	return err
}

// Abandon records that an intent's APPEND did not land (or failed): the
// record is new again.
func (m *Manifest) Abandon(key string) error {
	_, err := m.write("abandon", outcome{Key: key}, func() { delete(m.entries, key) })
	return err
}

func (m *Manifest) write(kind string, v any, apply func()) (int64, error) {
	line, err := json.Marshal(map[string]any{kind: v})
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.f.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("manifest %s: %w", m.path, err)
	}
	apply()
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

// DefaultManifestPath is where an import into the destination keeps its
// manifest when --manifest is not given: inside the archive directory.
func DefaultManifestPath(archiveDir, destination string) string {
	return filepath.Join(archiveDir, "manifests", sanitizeFileName(destination)+".jsonl")
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

// entriesIn returns the entries of a destination folder.
func (m *Manifest) entriesIn(folder string, uidValidity uint32) []ManifestEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ManifestEntry
	for _, e := range m.entries {
		if e.Folder == folder && e.UIDValidity == uidValidity {
			out = append(out, *e)
		}
	}
	return out
}
