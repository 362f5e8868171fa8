package export

import (
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// known is what earlier runs stored of an account: for each folder and
// UIDVALIDITY, the message each UID (or POP3 UIDL) held. A resumed or
// incremental export downloads only what is not here.
type known struct {
	byUID  map[folderKey]map[uint32]storedRef
	byUIDL map[string]map[string]storedRef // folder -> UIDL
}

type folderKey struct {
	name        string
	uidValidity uint32
}

type storedRef struct {
	id         format.ID
	size       int64
	date       time.Time
	dateSource string
}

// loadKnown reads the account's latest complete snapshot and every
// checkpoint written since (those of interrupted runs), keeping only
// messages the index still holds.
func loadKnown(a *archive.Archive, idx *archive.Index, account string) (*known, error) {
	k := &known{byUID: map[folderKey]map[uint32]storedRef{}, byUIDL: map[string]map[string]storedRef{}}
	snaps, _, err := a.Snapshots()
	if err != nil {
		return nil, err
	}
	var use []archive.SnapshotInfo
	latest, err := archive.SelectSnapshot(snaps, account, "")
	if err == nil {
		use = append(use, latest)
	}
	for _, s := range snaps {
		if s.Account == account && !s.Complete && (err != nil || !s.Started.Before(latest.Started)) {
			use = append(use, s)
		}
	}
	for _, s := range use {
		validity := map[string]uint32{}
		err := a.ReadSnapshot(s.ID, func(rec format.SnapshotRecord) error {
			if f := rec.Folder; f != nil {
				validity[f.Name] = f.UIDValidity
				return nil
			}
			m := rec.Message
			if !idx.HasMessage(m.ID) {
				return nil
			}
			ref := storedRef{id: m.ID, size: m.Size, date: m.InternalDate, dateSource: m.DateSource}
			if m.UIDL != "" {
				byUIDL := k.byUIDL[m.Folder]
				if byUIDL == nil {
					byUIDL = map[string]storedRef{}
					k.byUIDL[m.Folder] = byUIDL
				}
				byUIDL[m.UIDL] = ref
			}
			if m.UID != 0 && s.Source.Kind == format.SourceIMAP {
				key := folderKey{m.Folder, validity[m.Folder]}
				byUID := k.byUID[key]
				if byUID == nil {
					byUID = map[uint32]storedRef{}
					k.byUID[key] = byUID
				}
				byUID[m.UID] = ref
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

// lookup returns what earlier runs stored for an item: by UIDL where it
// has one, else by UIDVALIDITY and UID with the same size (a server that
// reused a UID for another message would rarely give it the same size).
func (k *known) lookup(f format.Folder, it Item) (storedRef, bool) {
	if it.UIDL != "" {
		ref, ok := k.byUIDL[f.Name][it.UIDL]
		return ref, ok
	}
	if f.UIDValidity == 0 {
		return storedRef{}, false
	}
	ref, ok := k.uid(f.Name, f.UIDValidity, it.UID)
	return ref, ok && ref.size == it.Size
}

// uid returns what earlier runs stored for a folder's UID.
func (k *known) uid(folder string, uidValidity, uid uint32) (storedRef, bool) {
	r, ok := k.byUID[folderKey{folder, uidValidity}][uid]
	return r, ok
}

// forget drops a folder's entries once it is done, to free memory.
func (k *known) forget(folder string) {
	for key := range k.byUID {
		if key.name == folder {
			delete(k.byUID, key)
		}
	}
}

// renumbered reports whether earlier runs stored the folder under another
// UIDVALIDITY: its UIDs then say nothing, but its messages may still be
// recognised by their headers.
func (k *known) renumbered(folder string, uidValidity uint32) bool {
	for key := range k.byUID {
		if key.name == folder && key.uidValidity != uidValidity {
			return true
		}
	}
	return false
}
