package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/format"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// A newer snapshot of an account imported over an older one converges:
// flags changed at the source since are changed on the destination (only
// the difference, after the flag transforms and PERMANENTFLAGS), and with
// Delete what the source expunged is expunged from the destination, but
// only messages this manifest put there.

// flagJob is the flag update of one message already on the destination.
type flagJob struct {
	key, folder string
	uid         uint32
	add, remove format.Flags
	now         format.Flags // what the message has once done
}

// flagDiff is what turns had into want.
func flagDiff(had, want format.Flags) (add, remove format.Flags) {
	for _, f := range want {
		if !slices.Contains(had, f) {
			add = append(add, f)
		}
	}
	for _, f := range had {
		if !slices.Contains(want, f) && !strings.EqualFold(f, `\Recent`) {
			remove = append(remove, f)
		}
	}
	return add, remove
}

// updateFlags sends the queued flag updates: one UID STORE per folder and
// change, on as many messages as share it.
func (im *importer) updateFlags(ctx context.Context, s *mailconn.Session) error {
	if len(im.flagJobs) == 0 {
		return nil
	}
	type change struct{ folder, add, remove string }
	groups := map[change][]flagJob{}
	var order []change
	for _, j := range im.flagJobs {
		k := change{j.folder, strings.Join(j.add, " "), strings.Join(j.remove, " ")}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	slices.SortStableFunc(order, func(a, b change) int { return strings.Compare(a.folder, b.folder) })
	done := map[change]bool{}
	return s.Do(ctx, func(c *imapclient.Client) error {
		selected := ""
		for _, k := range order {
			if done[k] {
				continue
			}
			jobs := groups[k]
			if selected != k.folder {
				if _, err := c.Select(k.folder, nil).Wait(); err != nil {
					return err
				}
				selected = k.folder
			}
			uids := make([]uint32, len(jobs))
			for i, j := range jobs {
				uids[i] = j.uid
			}
			err := storeFlags(c, uids, imap.StoreFlagsAdd, jobs[0].add)
			if err == nil {
				err = storeFlags(c, uids, imap.StoreFlagsDel, jobs[0].remove)
			}
			var ie *imap.Error
			if err != nil && !errors.As(err, &ie) {
				return err
			}
			done[k] = true
			for _, j := range jobs {
				if err != nil {
					im.failFlags(j, err)
					continue
				}
				if err := im.opts.Manifest.FlagsSet(j.key, j.folder, j.now); err != nil {
					return &errStop{err}
				}
				im.rep.FlagsUpdated++
			}
		}
		return nil
	})
}

func storeFlags(c *imapclient.Client, uids []uint32, op imap.StoreFlagsOp, flags format.Flags) error {
	if len(flags) == 0 {
		return nil
	}
	for _, set := range uidSets(uids) {
		if err := c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: imapFlags(flags)}, nil).Close(); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) failFlags(j flagJob, err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rep.Failed = append(im.rep.Failed, Item{Folder: recordFolder(j.key), Dest: j.folder, Reason: fmt.Sprintf("flags of uid %d not updated: %v", j.uid, err)})
}

// deleteGone expunges, from each destination folder of this run, the
// messages the manifest put there for this account whose records the
// snapshot no longer has. UID EXPUNGE (UIDPLUS) touches only those; a
// plain EXPUNGE would take every \Deleted message of the folder, so
// without UIDPLUS nothing is deleted.
func (im *importer) deleteGone(ctx context.Context, s *mailconn.Session) error {
	all := im.gone()
	if len(all) == 0 {
		return nil
	}
	return s.Do(ctx, func(c *imapclient.Client) error {
		if !c.Caps().Has(imap.CapUIDPlus) {
			return errors.New("--delete needs UID EXPUNGE (UIDPLUS, RFC 4315), which this server lacks: nothing deleted")
		}
		for i := range all {
			g := &all[i]
			if len(g.keys) == 0 {
				continue
			}
			if _, err := c.Select(g.folder, nil).Wait(); err != nil {
				return err
			}
			if err := storeFlags(c, g.uids, imap.StoreFlagsAdd, format.Flags{`\Deleted`}); err != nil {
				return err
			}
			for _, set := range uidSets(g.uids) {
				if err := c.UIDExpunge(set).Close(); err != nil {
					return err
				}
			}
			for _, k := range g.keys {
				if err := im.opts.Manifest.Abandon(k, g.folder); err != nil {
					return &errStop{err}
				}
			}
			im.rep.Deleted += len(g.keys)
			g.keys = nil
		}
		return nil
	})
}

// gone are the messages of one destination folder that --delete takes.
type gone struct {
	folder string
	keys   []string
	uids   []uint32
}

// gone lists, per destination folder, the messages the manifest put there
// for this account whose records are not among the snapshot's (im.keys).
func (im *importer) gone() []gone {
	var all []gone
	for _, f := range im.folders {
		g := gone{folder: f.name}
		for key, e := range f.alive {
			if recordAccount(key) == im.opts.Snapshot.Account && !im.keys[key] {
				g.keys = append(g.keys, key)
				g.uids = append(g.uids, e.UID)
			}
		}
		if len(g.keys) > 0 {
			all = append(all, g)
		}
	}
	return all
}

// storeLater is a flag to set with STORE after its APPEND (Exchange's
// \Flagged, which it forgets when APPEND sets it).
type storeLater struct {
	job    appendJob
	folder string
	uid    uint32
	flags  format.Flags
}

func storeFlagsAfter(c *imapclient.Client, later []storeLater) error {
	for _, l := range later {
		if _, err := c.Select(l.folder, nil).Wait(); err != nil {
			return fmt.Errorf("SELECT %q: %w", l.folder, err)
		}
		if err := storeFlags(c, []uint32{l.uid}, imap.StoreFlagsAdd, l.flags); err != nil {
			return fmt.Errorf("STORE %q uid %d: %w", l.folder, l.uid, err)
		}
	}
	return nil
}

func (im *importer) failStore(l storeLater, err error) {
	im.fail(l.job, fmt.Sprintf("flags to set after the APPEND: %v", err))
}
