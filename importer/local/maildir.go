package local

import (
	"fmt"
	"io"

	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/maildir"
)

// Maildir writes a snapshot as a Maildir++ tree, in the conventions
// export reads: flag letters, dovecot-keywords, mtime = internal date.
type Maildir struct {
	s     *maildir.Store
	names map[string]string // archive folder name -> Maildir++ name
}

// NewMaildir creates (or opens) the Maildir++ tree at root.
func NewMaildir(root string) (*Maildir, error) {
	s, err := maildir.Create(root)
	if err != nil {
		return nil, err
	}
	return &Maildir{s: s, names: map[string]string{}}, nil
}

// CreateFolder makes the folder's directory; \Noselect parents stay implicit.
func (t *Maildir) CreateFolder(f format.Folder) error {
	name, err := t.s.CreateFolder(f)
	if err != nil {
		return err
	}
	t.names[f.Name] = name
	return nil
}

// Deliver writes the message with its flags and date.
func (t *Maildir) Deliver(m format.Message, r io.Reader) error {
	name, ok := t.names[m.Folder]
	if !ok {
		return fmt.Errorf("folder %q was not created", m.Folder)
	}
	_, err := t.s.Deliver(name, m.Flags, m.InternalDate, r)
	return err
}

// SetSubscriptions writes Dovecot's subscriptions file.
func (t *Maildir) SetSubscriptions(names []string) error {
	var out []string
	for _, n := range names {
		if mn, ok := t.names[n]; ok {
			out = append(out, mn)
		}
	}
	return t.s.SetSubscriptions(out)
}

// Close does nothing: each message is synced when delivered.
func (t *Maildir) Close() error { return nil }
