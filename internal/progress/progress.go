// Package progress counts a long job's work (an export, an import) as it
// goes, for a live display; the job updates it and the command reads it.
package progress

import (
	"sync"
	"sync/atomic"
)

// Progress counts a job's work as it goes, for a live display. Totals
// grow as folders are examined; every field may be read at any time.
type Progress struct {
	MessagesTotal atomic.Int64 // messages in the selected folders
	BytesTotal    atomic.Int64 // their sizes, as far as examined
	MessagesDone  atomic.Int64 // recorded, downloaded or found in the archive
	BytesDone     atomic.Int64
	Transferred   atomic.Int64 // messages whose bytes went over the wire
	Failures      atomic.Int64

	mu      sync.Mutex
	folders map[string]*FolderProgress
	order   []string
}

// FolderProgress is one folder's share of the work.
type FolderProgress struct {
	Name             string
	Messages, Done   int64
	Bytes, BytesDone int64
}

// Folder announces a folder's share of the work.
func (p *Progress) Folder(name string, messages, bytes int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.folders == nil {
		p.folders = map[string]*FolderProgress{}
	}
	p.folders[name] = &FolderProgress{Name: name, Messages: messages, Bytes: bytes}
	p.order = append(p.order, name)
	p.BytesTotal.Add(bytes)
}

// Message counts one message done; transferred says its bytes moved
// (rather than being known already).
func (p *Progress) Message(folder string, size int64, transferred bool) {
	if p == nil {
		return
	}
	p.MessagesDone.Add(1)
	p.BytesDone.Add(size)
	if transferred {
		p.Transferred.Add(1)
	}
	p.mu.Lock()
	if f := p.folders[folder]; f != nil {
		f.Done++
		f.BytesDone += size
	}
	p.mu.Unlock()
}

// Failed counts one message that could not be done.
func (p *Progress) Failed() {
	if p != nil {
		p.Failures.Add(1)
	}
}

// Folders returns the folders examined so far that still have work left,
// in the order they were examined.
func (p *Progress) Folders() []FolderProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []FolderProgress
	for _, n := range p.order {
		if f := p.folders[n]; f.Done < f.Messages {
			out = append(out, *f)
		}
	}
	return out
}
