package local

import (
	"fmt"
	"io"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mbox"
)

// Mbox writes a snapshot as a directory of mbox files (mboxrd, flags
// in Status/X-Status/X-Keywords, Thunderbird's .sbd layout for children).
// mbox keeps internal dates to the second and without their zone.
type Mbox struct {
	d       *mbox.Dir
	folders map[string]format.Folder
	cur     string
	w       *mbox.FileWriter
}

// NewMbox creates the directory root for the mbox files.
func NewMbox(root string) (*Mbox, error) {
	d, err := mbox.CreateDir(root)
	if err != nil {
		return nil, err
	}
	return &Mbox{d: d, folders: map[string]format.Folder{}}, nil
}

// CreateFolder makes the folder's (empty) file.
func (t *Mbox) CreateFolder(f format.Folder) error {
	t.folders[f.Name] = f
	_, err := t.d.CreateFolder(f)
	return err
}

// Deliver appends the message to its folder's file. One file is open at a
// time; snapshots list a folder's messages together.
func (t *Mbox) Deliver(m format.Message, r io.Reader) error {
	if t.w == nil || t.cur != m.Folder {
		f, ok := t.folders[m.Folder]
		if !ok {
			return fmt.Errorf("folder %q was not created", m.Folder)
		}
		if err := t.closeCurrent(); err != nil {
			return err
		}
		w, err := t.d.Append(f)
		if err != nil {
			return err
		}
		t.w, t.cur = w, m.Folder
	}
	return t.w.Write(mbox.Message{FromLineDate: m.InternalDate, Flags: m.Flags}, r)
}

func (t *Mbox) closeCurrent() error {
	if t.w == nil {
		return nil
	}
	err := t.w.Close()
	t.w = nil
	return err
}

// SetSubscriptions does nothing: mbox has no subscriptions.
func (t *Mbox) SetSubscriptions([]string) error { return nil }

// Close finishes the open file.
func (t *Mbox) Close() error { return t.closeCurrent() }
