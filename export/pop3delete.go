package export

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
)

// DeleteExported removes from the maildrop the messages of a committed
// snapshot, each only after reading it back from the archive and checking
// its hash. Messages are found by UIDL; without UIDL nothing is deleted.
// POP3 applies deletions at QUIT, so a failure before it deletes nothing.
func (p *pop3Source) DeleteExported(ctx context.Context, a *archive.Archive, snap format.ID) error {
	s := p.s
	rd, _, err := a.OpenReader()
	if err != nil {
		return err
	}
	defer rd.Close()
	var verified []string
	err = a.ReadSnapshot(snap, func(rec format.SnapshotRecord) error {
		m := rec.Message
		if m == nil || m.UIDL == "" {
			return nil
		}
		rc, _, err := rd.Open(m.ID)
		if err != nil {
			return fmt.Errorf("UIDL %q: not deleted: %w", m.UIDL, err)
		}
		defer rc.Close()
		if _, err := io.Copy(io.Discard, rc); err != nil {
			return fmt.Errorf("UIDL %q: not deleted: %w", m.UIDL, err)
		}
		verified = append(verified, m.UIDL)
		return nil
	})
	if err != nil {
		return err
	}
	if len(verified) == 0 {
		slog.Warn("--delete-after-export: nothing to delete (the server has no UIDL, or the maildrop is empty)")
		return nil
	}
	c, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("--delete-after-export: %w", err)
	}
	defer c.Close()
	numbers, err := messageNumbers(ctx, c)
	if err != nil {
		return fmt.Errorf("--delete-after-export: UIDL: %w", err)
	}
	deleted := 0
	for _, u := range verified {
		if n, ok := numbers[u]; ok {
			if err := c.Dele(ctx, n); err != nil {
				return fmt.Errorf("--delete-after-export: DELE %d: %w (nothing deleted: the session ends without QUIT)", n, err)
			}
			deleted++
		}
	}
	if err := c.Quit(ctx); err != nil {
		return fmt.Errorf("--delete-after-export: QUIT: %w", err)
	}
	slog.Info("deleted exported messages from the server", "messages", deleted)
	return nil
}
