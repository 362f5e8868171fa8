package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Locks keep prune, which deletes files, apart from everyone else. Writers
// and long readers hold shared locks; prune holds the exclusive one. A lock
// is a file under locks/ that its holder touches every lockRefresh; one not
// touched for lockStale, or held by a process of this host that is gone,
// is stale and removed by whoever finds it (restic's rule).
const (
	dirLocks    = "locks"
	lockRefresh = 5 * time.Minute
	lockStale   = 30 * time.Minute
)

// LockInfo is what a lock file says of its holder.
type LockInfo struct {
	Exclusive bool      `json:"exclusive"`
	Purpose   string    `json:"purpose"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
}

// LockedError means another process holds a lock that conflicts with the
// one asked for.
type LockedError struct {
	File   string // the lock file, relative to the archive
	Holder LockInfo
}

func (e *LockedError) Error() string {
	kind := "shared"
	if e.Holder.Exclusive {
		kind = "exclusive"
	}
	return fmt.Sprintf("the archive is in use: %s lock of %s (pid %d on %s, since %s, file %s); try again when it has finished, or delete that file if the process is gone",
		kind, e.Holder.Purpose, e.Holder.PID, e.Holder.Host, e.Holder.Time.Format(time.RFC3339), e.File)
}

// Lock is a held lock; Unlock releases it.
type Lock struct {
	path string
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// Lock takes a shared lock (exclusive false) or the exclusive one for
// purpose ("export", "prune", ...). It fails with a *LockedError when a
// conflicting lock is held: it never waits.
func (a *Archive) Lock(exclusive bool, purpose string) (*Lock, error) {
	dir := filepath.Join(a.dir, dirLocks)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.dir, err)
	}
	host, _ := os.Hostname()
	info := LockInfo{Exclusive: exclusive, Purpose: purpose, Host: host, PID: os.Getpid(), Time: time.Now().UTC().Truncate(time.Second)}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, hex.EncodeToString(rnd[:]))
	if err := writeSynced(name, b); err != nil {
		return nil, fmt.Errorf("archive lock: %w", err)
	}
	if err := syncDir(dir); err != nil {
		os.Remove(name)
		return nil, err
	}
	// Written first, checked after: of two processes locking at once,
	// the later one to write sees the other's file, so both cannot pass.
	if err := a.checkLocks(name, exclusive); err != nil {
		os.Remove(name)
		return nil, err
	}
	l := &Lock{path: name, stop: make(chan struct{})}
	l.wg.Add(1)
	go l.refresh()
	return l, nil
}

// LockWait is Lock, tried again while a conflicting lock is held, for up to
// wait (restic's --retry-lock): a prune started by cron beside a nightly
// export runs once the export has finished.
func (a *Archive) LockWait(ctx context.Context, exclusive bool, purpose string, wait time.Duration) (*Lock, error) {
	deadline := time.Now().Add(wait)
	pause := 100 * time.Millisecond
	for {
		l, err := a.Lock(exclusive, purpose)
		var locked *LockedError
		if !errors.As(err, &locked) || time.Now().Add(pause).After(deadline) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// checkLocks returns a *LockedError for a live lock other than own that
// conflicts, removing stale ones it meets.
func (a *Archive) checkLocks(own string, exclusive bool) error {
	dir := filepath.Join(a.dir, dirLocks)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("archive lock: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if path == own || e.IsDir() {
			continue
		}
		info, live := readLock(path)
		if !live {
			os.Remove(path)
			continue
		}
		if exclusive || info.Exclusive {
			return &LockedError{File: filepath.Join(dirLocks, e.Name()), Holder: info}
		}
	}
	return nil
}

// readLock reads a lock file and says whether it is live. A file that
// cannot be read yet is young or being written: live, unless it is old.
func readLock(path string) (LockInfo, bool) {
	var info LockInfo
	st, err := os.Stat(path)
	if err != nil {
		return info, false
	}
	if time.Since(st.ModTime()) > lockStale {
		return info, false
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &info) != nil {
		info.Purpose = "an unreadable lock file"
		return info, true
	}
	if host, _ := os.Hostname(); info.Host == host && info.PID > 0 && !processAlive(info.PID) {
		return info, false
	}
	return info, true
}

// refresh touches the lock file until Unlock, so that others see it live.
func (l *Lock) refresh() {
	defer l.wg.Done()
	t := time.NewTicker(lockRefresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			now := time.Now()
			os.Chtimes(l.path, now, now)
		}
	}
}

// Unlock releases the lock; later calls do nothing.
func (l *Lock) Unlock() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		close(l.stop)
		l.wg.Wait()
		os.Remove(l.path)
	})
}

// LockShared takes a shared lock for a reader, for purpose. On an archive
// this process may not write (a read-only copy), it returns a nil Lock and
// no error: nothing can prune such a copy from here either.
func (a *Archive) LockShared(purpose string) (*Lock, error) {
	l, err := a.Lock(false, purpose)
	if err != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		return nil, nil
	}
	return l, err
}
