package archive

import (
	"os"
	"path/filepath"

	"github.com/mailferry/mailferry/format"
)

// AccountInfo sums up one account's latest complete snapshot.
type AccountInfo struct {
	Name      string
	Snapshots int // complete snapshots of the account
	Latest    SnapshotInfo
	Folders   int
	Messages  int
	Bytes     int64
}

// Info sums up an archive: what mail it holds and what that costs on disk.
type Info struct {
	Accounts  []AccountInfo
	Snapshots int // snapshot files, checkpoints included
	// Mail in the accounts' latest snapshots, counted per record.
	Messages int
	Bytes    int64
	// Unique messages and chunks stored.
	UniqueMessages int
	UniqueBytes    int64
	Chunks         int
	ChunkBytes     int64
	// Bytes on disk.
	PackBytes, IndexBytes, SnapshotBytes int64
	Problems                             []string
}

// StoredBytes is everything the archive takes on disk.
func (i *Info) StoredBytes() int64 { return i.PackBytes + i.IndexBytes + i.SnapshotBytes }

// DedupRatio is the latest snapshots' mail over the distinct chunk bytes kept.
func (i *Info) DedupRatio() float64 { return ratio(i.Bytes, i.ChunkBytes) }

// CompressionRatio is the distinct chunk bytes over their compressed size.
func (i *Info) CompressionRatio() float64 { return ratio(i.ChunkBytes, i.PackBytes) }

// TotalRatio is the latest snapshots' mail over everything stored.
func (i *Info) TotalRatio() float64 { return ratio(i.Bytes, i.StoredBytes()) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Info reads the archive's index and snapshots and sums them up.
func (a *Archive) Info() (*Info, error) {
	info := &Info{}
	idx, iprobs, err := a.Index()
	if err != nil {
		return nil, err
	}
	for _, p := range iprobs {
		info.Problems = append(info.Problems, p.Error())
	}
	info.Chunks, info.ChunkBytes, info.UniqueMessages, info.UniqueBytes = idx.Counts()
	snaps, sprobs, err := a.Snapshots()
	if err != nil {
		return nil, err
	}
	for _, p := range sprobs {
		info.Problems = append(info.Problems, p.Error())
	}
	info.Snapshots = len(snaps) + len(sprobs)
	for _, name := range Accounts(snaps) {
		ai := AccountInfo{Name: name}
		for _, s := range snaps {
			if s.Account == name && s.Complete {
				ai.Snapshots++
				ai.Latest = s
			}
		}
		err := a.ReadSnapshot(ai.Latest.ID, func(rec format.SnapshotRecord) error {
			if rec.Folder != nil {
				ai.Folders++
			} else {
				ai.Messages++
				ai.Bytes += rec.Message.Size
			}
			return nil
		})
		if err != nil {
			info.Problems = append(info.Problems, err.Error())
		}
		info.Messages += ai.Messages
		info.Bytes += ai.Bytes
		info.Accounts = append(info.Accounts, ai)
	}
	info.PackBytes = dirSize(filepath.Join(a.dir, dirPacks))
	info.IndexBytes = dirSize(filepath.Join(a.dir, dirIndex))
	info.SnapshotBytes = dirSize(filepath.Join(a.dir, dirSnapshots))
	return info, nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
