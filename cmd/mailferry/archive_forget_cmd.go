package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/urfave/cli/v2"
)

func archiveForgetCommand() *cli.Command {
	keep := func(name, usage string) cli.Flag {
		return &cli.IntFlag{Name: "keep-" + name, Usage: usage + " (0: this rule keeps none)"}
	}
	return &cli.Command{
		Name:  "forget",
		Usage: "remove snapshots by retention rules or by id; with --prune, delete the data no snapshot left needs",
		Description: "Rules apply to each account's complete snapshots, newest first; a snapshot any rule keeps is\n" +
			"   kept. Days, weeks (ISO, Monday to Sunday), months and years are local time. Checkpoints of a run\n" +
			"   not finished since and repaired snapshots are kept (forget those by id). Forgetting removes snapshot files only; their messages go with --prune (or archive prune).\n" +
			"   Prune fails while an export, import or verify uses the archive, unless --retry-lock lets it wait.",
		ArgsUsage: "DIR [SNAPSHOT-ID...]",
		Flags: []cli.Flag{
			keep("last", "keep the newest `N` snapshots"),
			keep("daily", "keep the newest snapshot of each of the last `N` days that have one"),
			keep("weekly", "keep the newest snapshot of each of the last `N` weeks that have one"),
			keep("monthly", "keep the newest snapshot of each of the last `N` months that have one"),
			keep("yearly", "keep the newest snapshot of each of the last `N` years that have one"),
			&cli.StringFlag{Name: "account", Usage: "apply the rules to this account only (`NAME`)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would be forgotten (and pruned), change nothing"},
			&cli.BoolFlag{Name: "prune", Usage: "then delete the data no remaining snapshot needs"},
			retryLockFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the decisions and the prune report as JSON"},
		},
		Action: archiveForget,
	}
}

func archivePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "delete the data no snapshot needs (after archive forget), crash-safe",
		Description: "Packs that also hold data no snapshot needs are written again without it. Killed at any point,\n" +
			"   the archive still verifies and a later prune finishes the job. It fails while an export, import\n" +
			"   or verify uses the archive (unless --retry-lock lets it wait), and refuses a damaged archive\n" +
			"   (run archive repair first).",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "say what would be deleted, change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			retryLockFlag,
		},
		Action: func(c *cli.Context) error {
			a, err := openArchiveArg(c, 1)
			if err != nil {
				return err
			}
			rep, err := a.Prune(c.Context, archive.PruneOptions{DryRun: c.Bool("dry-run"), RetryLock: c.Duration("retry-lock")})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c, pruneJSON(rep, c.Bool("dry-run")))
			}
			printPrune(c, rep, c.Bool("dry-run"))
			return nil
		},
	}
}

// retryLockFlag lets prune wait for the exports, imports and verifies
// that use the archive (restic's --retry-lock).
var retryLockFlag = &cli.DurationFlag{Name: "retry-lock", Usage: "wait up to `DURATION` (90s, 2h) for commands using the archive to finish (0: fail at once)"}

// forgetDecision is one snapshot's line of the forget report.
type forgetDecision struct {
	ID      string    `json:"id"`
	Account string    `json:"account"`
	Started time.Time `json:"started"`
	Kind    string    `json:"kind"`
	Keep    bool      `json:"keep"`
	Reasons []string  `json:"reasons"`
}

func archiveForget(c *cli.Context) error {
	if c.NArg() < 1 {
		return cli.Exit("usage: mailferry archive forget DIR [SNAPSHOT-ID...] [--keep-last N ...]", exitStatusUsage)
	}
	policy := archive.RetentionPolicy{Last: c.Int("keep-last"), Daily: c.Int("keep-daily"), Weekly: c.Int("keep-weekly"),
		Monthly: c.Int("keep-monthly"), Yearly: c.Int("keep-yearly"), Account: c.String("account")}
	ids := c.Args().Tail()
	switch {
	case len(ids) == 0 && policy.Empty():
		return cli.Exit("archive forget: give --keep-last, --keep-daily, --keep-weekly, --keep-monthly or --keep-yearly, or snapshot ids: it never forgets every snapshot", exitStatusUsage)
	case len(ids) > 0 && !policy.Empty():
		return cli.Exit("archive forget: give snapshot ids or --keep-* rules, not both", exitStatusUsage)
	}
	a, err := archive.Open(c.Args().First())
	if err != nil {
		return err
	}
	snaps, problems, err := a.Snapshots()
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d snapshot files could not be read (run mailferry archive verify), the first: %v", len(problems), problems[0])
	}
	var decisions []archive.Decision
	reason := "forgotten by id"
	if len(ids) > 0 {
		for _, p := range ids {
			if len(p) < 4 {
				return cli.Exit(fmt.Sprintf("snapshot %q: give at least 4 hex digits of its id (archive snapshots lists them)", p), exitStatusUsage)
			}
		}
		if decisions, err = archive.DecideByID(snaps, ids); err != nil {
			return err
		}
	} else {
		reason = "retention: " + policy.String()
		decisions = policy.Apply(snaps)
		if len(decisions) == 0 && policy.Account != "" {
			return cli.Exit(fmt.Sprintf("--account: the archive holds no snapshot of %s", format.QuoteName(policy.Account)), 1)
		}
	}
	forget := archive.ToForget(decisions, reason)
	var lines []forgetDecision
	for _, d := range decisions {
		s := d.Snapshot
		lines = append(lines, forgetDecision{ID: s.ID.String(), Account: s.Account, Started: s.Started, Kind: snapshotKind(s), Keep: d.Keep, Reasons: d.Reasons})
	}
	dry := c.Bool("dry-run")
	if !dry {
		if err := a.Forget(forget, toolVersion()); err != nil {
			return err
		}
	}
	var rep *archive.PruneReport
	if c.Bool("prune") {
		opts := archive.PruneOptions{DryRun: dry, Without: forget, RetryLock: c.Duration("retry-lock")}
		if rep, err = a.Prune(c.Context, opts); err != nil {
			return fmt.Errorf("forgot %d snapshots; prune: %w", len(forget), err)
		}
	}
	if c.Bool("json") {
		out := map[string]any{"archive": a.Dir(), "dry_run": dry, "snapshots": lines, "forgotten": len(forget)}
		if rep != nil {
			out["prune"] = pruneJSON(rep, dry)
		}
		return printJSON(c, out)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\tSNAPSHOT\tACCOUNT\tSTARTED\tKIND\tWHY")
	for _, l := range lines {
		verb := "keep"
		if !l.Keep {
			verb = "forget"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", verb, l.ID[:12], format.QuoteName(l.Account), l.Started.Local().Format(time.RFC3339), l.Kind, strings.Join(l.Reasons, ", "))
	}
	w.Flush()
	if dry {
		fmt.Fprintf(c.App.Writer, "would forget %d of %d snapshots (dry run: nothing changed)\n", len(forget), len(lines))
	} else {
		fmt.Fprintf(c.App.Writer, "forgot %d of %d snapshots\n", len(forget), len(lines))
	}
	if rep != nil {
		printPrune(c, rep, dry)
	} else if !dry && len(forget) > 0 {
		fmt.Fprintf(c.App.Writer, "their messages stay stored until: mailferry archive prune %s\n", a.Dir())
	}
	return nil
}

func pruneJSON(rep *archive.PruneReport, dry bool) map[string]any {
	return map[string]any{"dry_run": dry, "snapshots": rep.Snapshots, "messages_kept": rep.Messages, "messages_removed": rep.Removed,
		"messages_rewritten": rep.Rewritten, "packs_kept": rep.PacksKept, "packs_rewritten": rep.PacksRewritten,
		"packs_deleted": rep.PacksDeleted, "packs_written": rep.PacksWritten, "index_files_deleted": rep.IndexFilesDeleted,
		"index_files_written": rep.IndexFilesWritten, "pack_bytes_before": rep.BytesBefore, "pack_bytes_after": rep.BytesAfter,
		"tmp_files_deleted": rep.TmpFilesDeleted}
}

func printPrune(c *cli.Context, rep *archive.PruneReport, dry bool) {
	w := c.App.Writer
	if rep.Removed == 0 && rep.PacksDeleted+rep.PacksRewritten == 0 {
		fmt.Fprintf(w, "prune: nothing to delete (%d snapshots name %d messages)\n", rep.Snapshots, rep.Messages)
		return
	}
	verb := "removed"
	if dry {
		verb = "would remove"
	}
	fmt.Fprintf(w, "prune: %s %d messages no snapshot needs; kept %d for %d snapshots (%d written again)\n", verb, rep.Removed, rep.Messages, rep.Snapshots, rep.Rewritten)
	fmt.Fprintf(w, "packs: %d kept, %d rewritten, %d deleted, %d new; %s before, %s after\n", rep.PacksKept, rep.PacksRewritten, rep.PacksDeleted, rep.PacksWritten,
		bytesHuman(rep.BytesBefore), bytesHuman(rep.BytesAfter))
}

// snapshotKind says what a snapshot is: complete, checkpoint or repaired.
func snapshotKind(s archive.SnapshotInfo) string {
	switch {
	case s.Repaired != nil:
		return "repaired"
	case !s.Complete:
		return "checkpoint"
	}
	return "complete"
}
