package export

import (
	"sync"
	"sync/atomic"
)

// Progress counts an export's work as it goes, for a live display. Totals
// grow as folders are examined; every field may be read at any time.
type Progress struct {
	MessagesTotal atomic.Int64 // messages in the selected folders
	BytesTotal    atomic.Int64 // their sizes, as far as examined
	MessagesDone  atomic.Int64 // recorded, downloaded or found in the archive
	BytesDone     atomic.Int64
	Downloaded    atomic.Int64 // messages whose bytes were fetched
	Failed        atomic.Int64

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

func (p *Progress) folder(name string, messages, bytes int64) {
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

func (p *Progress) message(folder string, size int64, downloaded bool) {
	if p == nil {
		return
	}
	p.MessagesDone.Add(1)
	p.BytesDone.Add(size)
	if downloaded {
		p.Downloaded.Add(1)
	}
	p.mu.Lock()
	if f := p.folders[folder]; f != nil {
		f.Done++
		f.BytesDone += size
	}
	p.mu.Unlock()
}

func (p *Progress) failed() {
	if p != nil {
		p.Failed.Add(1)
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
