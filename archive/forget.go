package archive

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mailferry/mailferry/format"
)

// dirForgotten holds forget files: which snapshots were removed on purpose.
const dirForgotten = "forgotten"

// Forget removes snapshot files. It first stores a forget file naming them
// (so verify knows a kept snapshot's parent went on purpose), then deletes
// each. The messages they named stay stored until Prune. A crash between
// the two leaves snapshots that are named as forgotten yet still there:
// they stay usable, and forgetting them again finishes the job.
func (a *Archive) Forget(snaps []format.Forgotten, tool string) error {
	if len(snaps) == 0 {
		return nil
	}
	// Shared, as a writer's: beside exports, never in a prune, which reads
	// the snapshots to know what to keep.
	lock, err := a.Lock(false, "forget")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if err := os.MkdirAll(filepath.Join(a.dir, dirForgotten), dirMode); err != nil {
		return fmt.Errorf("archive %s: %w", a.dir, err)
	}
	if err := a.prepareWrite(); err != nil {
		return err
	}
	tf, err := a.newTempFile()
	if err != nil {
		return err
	}
	defer tf.abort()
	h := format.ForgetHeader{Version: a.config.Version, Time: time.Now().UTC().Truncate(time.Second), Tool: tool}
	if err := format.WriteForget(tf, h, snaps); err != nil {
		return err
	}
	if _, err := tf.commit(dirForgotten); err != nil {
		return err
	}
	for _, s := range snaps {
		if err := os.Remove(filePath(a.dir, dirSnapshots, s.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("forget snapshot %s: %w", s.ID.Short(), err)
		}
	}
	return syncDir(filepath.Join(a.dir, dirSnapshots))
}

// Forgotten returns the ids of the snapshots that forget files name.
// Damaged forget files are returned as problems.
func (a *Archive) Forgotten() (map[format.ID]format.Forgotten, []error, error) {
	ids, _, err := a.listFiles(dirForgotten)
	if err != nil {
		return nil, nil, err
	}
	out := map[format.ID]format.Forgotten{}
	var problems []error
	for _, id := range ids {
		f, err := a.openFile(dirForgotten, id)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s/%s: %w", dirForgotten, id, err))
			continue
		}
		_, err = format.ReadForget(f, func(s format.Forgotten) { out[s.ID] = s })
		f.Close()
		if err != nil {
			problems = append(problems, fmt.Errorf("%s/%s: %w", dirForgotten, id, err))
		}
	}
	return out, problems, nil
}
