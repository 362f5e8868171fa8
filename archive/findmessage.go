package archive

import (
	"errors"
	"fmt"

	"github.com/mailferry/mailferry/format"
)

// ErrNoFolder means a snapshot has no folder of the name asked for.
var ErrNoFolder = errors.New("no such folder")

// ErrNoMessage means a snapshot's folder has no message with the UID or
// UIDL asked for.
var ErrNoMessage = errors.New("no such message")

// MessageKey names a message within a snapshot by where the source had it:
// its folder and IMAP UID, or its POP3 UIDL (UID 0). An empty Folder with a
// UIDL matches any folder, since POP3 has only one.
type MessageKey struct {
	Folder string
	UID    uint32
	UIDL   string
}

func (k MessageKey) String() string {
	if k.UIDL != "" {
		return fmt.Sprintf("UIDL %q", k.UIDL)
	}
	return fmt.Sprintf("UID %d", k.UID)
}

func (k MessageKey) matches(m *format.Message) bool {
	if k.Folder != "" && m.Folder != k.Folder {
		return false
	}
	if k.UIDL != "" {
		return m.UIDL == k.UIDL
	}
	return m.UID == k.UID
}

// errFound stops ReadSnapshot at the record looked for.
var errFound = errors.New("found")

// FindMessage returns the record of the message key names in snapshot id,
// reading the snapshot only as far as that record. The error wraps
// ErrNoFolder or ErrNoMessage when there is none.
func (a *Archive) FindMessage(id format.ID, key MessageKey) (format.Message, error) {
	var found format.Message
	folderSeen := key.Folder == ""
	err := a.ReadSnapshot(id, func(rec format.SnapshotRecord) error {
		switch {
		case rec.Folder != nil:
			folderSeen = folderSeen || rec.Folder.Name == key.Folder
		case key.matches(rec.Message):
			found = *rec.Message
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return found, nil
	case err != nil:
		return format.Message{}, err
	case !folderSeen:
		return format.Message{}, fmt.Errorf("snapshot %s, folder %s: %w", id.Short(), format.QuoteName(key.Folder), ErrNoFolder)
	case key.Folder == "":
		return format.Message{}, fmt.Errorf("snapshot %s, %s: %w", id.Short(), key, ErrNoMessage)
	}
	return format.Message{}, fmt.Errorf("snapshot %s, folder %s, %s: %w", id.Short(), format.QuoteName(key.Folder), key, ErrNoMessage)
}
