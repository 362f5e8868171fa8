package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/format"
	"github.com/urfave/cli/v2"
)

func formatVersion() int { return format.Version }

var (
	accountFlag  = &cli.StringFlag{Name: "account", Usage: "the account to use, as `NAME` (USER@HOST or a path); needed when the archive holds several"}
	snapshotFlag = &cli.StringFlag{Name: "snapshot", Usage: "a snapshot `ID` or unique prefix of one (default: the account's latest)"}
)

func archiveCommand() *cli.Command {
	return &cli.Command{
		Name:  "archive",
		Usage: "inspect, check and extract an archive",
		Subcommands: []*cli.Command{
			{
				Name:      "info",
				Usage:     "accounts, snapshots, messages, and what deduplication and compression saved",
				ArgsUsage: "DIR",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print it as JSON"}},
				Action:    archiveInfo,
			},
			{
				Name:      "ls",
				Usage:     "list the messages of a snapshot, one a line",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{accountFlag, snapshotFlag,
					&cli.BoolFlag{Name: "json", Usage: "one JSON object a line: account, snapshot, folder, uid, id, size, flags, internal_date, from, subject"},
					&cli.StringSliceFlag{Name: "folder", Usage: "only folders whose name matches `REGEX` (repeatable)"},
					&cli.StringFlag{Name: "from", Usage: "only messages whose From: header contains `TEXT` (any case)"},
					&cli.StringFlag{Name: "subject", Usage: "only messages whose Subject: contains `TEXT` (any case)"},
					&cli.StringFlag{Name: "since", Usage: "only messages of `DATE` (2024-01-31) or later, by internal date"},
					&cli.StringFlag{Name: "before", Usage: "only messages before `DATE`, by internal date"},
				},
				Action: archiveLs,
			},
			archiveCatCommand(),
			{
				Name:      "snapshots",
				Usage:     "list the snapshots: account, start, folders, messages, size, complete or checkpoint",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{accountFlag,
					&cli.BoolFlag{Name: "json", Usage: "one JSON object a line"},
				},
				Action: archiveSnapshots,
			},
			{
				Name:      "verify",
				Usage:     "re-hash every file, chunk and message; exit 0 only if the archive is intact",
				ArgsUsage: "DIR",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"}},
				Action:    archiveVerify,
			},
			archiveRepairCommand(),
			archiveForgetCommand(),
			archivePruneCommand(),
			extractCommand(),
		},
	}
}

// openArchiveArg opens the archive named by the first argument.
func openArchiveArg(c *cli.Context, want int) (*archive.Archive, error) {
	if c.NArg() != want {
		return nil, cli.Exit(fmt.Sprintf("usage: mailferry archive %s %s", c.Command.Name, c.Command.ArgsUsage), 2)
	}
	return archive.Open(c.Args().First())
}

func archiveInfo(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	info, err := a.Info()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		accounts := make([]map[string]any, len(info.Accounts))
		for i, ac := range info.Accounts {
			accounts[i] = map[string]any{"account": ac.Name, "snapshots": ac.Snapshots, "latest": ac.Latest.ID.String(),
				"latest_started": ac.Latest.Started, "folders": ac.Folders, "messages": ac.Messages, "bytes": ac.Bytes}
		}
		printJSON(c, map[string]any{"archive": a.Dir(), "format": a.Config().Version, "id": a.Config().ID, "accounts": accounts,
			"snapshots": info.Snapshots, "messages": info.Messages, "bytes": info.Bytes, "unique_messages": info.UniqueMessages,
			"chunks": info.Chunks, "chunk_bytes": info.ChunkBytes, "stored_bytes": info.StoredBytes(), "pack_bytes": info.PackBytes,
			"index_bytes": info.IndexBytes, "snapshot_bytes": info.SnapshotBytes, "dedup_ratio": info.DedupRatio(),
			"compression_ratio": info.CompressionRatio(), "overall_ratio": info.TotalRatio(), "problems": info.Problems})
		if len(info.Problems) > 0 {
			return cli.Exit("", 1)
		}
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "archive\t%s (format %d, id %s)\n", a.Dir(), a.Config().Version, a.Config().ID)
	fmt.Fprintf(w, "accounts\t%d\n", len(info.Accounts))
	for _, ac := range info.Accounts {
		fmt.Fprintf(w, "  %s\t%d snapshots; latest %s of %s: %d folders, %d messages, %s\n", format.QuoteName(ac.Name), ac.Snapshots,
			ac.Latest.ID.Short(), ac.Latest.Started.Format(time.RFC3339), ac.Folders, ac.Messages, bytesHuman(ac.Bytes))
	}
	fmt.Fprintf(w, "snapshots\t%d files (checkpoints included)\n", info.Snapshots)
	fmt.Fprintf(w, "messages\t%d in the latest snapshots, %d distinct\n", info.Messages, info.UniqueMessages)
	fmt.Fprintf(w, "raw bytes\t%s (%d) in the latest snapshots\n", bytesHuman(info.Bytes), info.Bytes)
	fmt.Fprintf(w, "distinct chunks\t%d, %s (%d)\n", info.Chunks, bytesHuman(info.ChunkBytes), info.ChunkBytes)
	fmt.Fprintf(w, "stored bytes\t%s (%d): packs %s, index %s, snapshots %s\n", bytesHuman(info.StoredBytes()), info.StoredBytes(),
		bytesHuman(info.PackBytes), bytesHuman(info.IndexBytes), bytesHuman(info.SnapshotBytes))
	fmt.Fprintf(w, "dedup ratio\t%.2f (raw bytes / distinct chunk bytes)\n", info.DedupRatio())
	fmt.Fprintf(w, "compression ratio\t%.2f (distinct chunk bytes / pack bytes)\n", info.CompressionRatio())
	fmt.Fprintf(w, "overall ratio\t%.2f (raw bytes / stored bytes)\n", info.TotalRatio())
	w.Flush()
	if len(info.Problems) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "%d files could not be read (run mailferry archive verify):\n  %s\n", len(info.Problems), strings.Join(info.Problems, "\n  "))
		return cli.Exit("", 1)
	}
	return nil
}

// lsRecord is one line of `archive ls --json`.
type lsRecord struct {
	Account      string    `json:"account"`
	Snapshot     string    `json:"snapshot"`
	Folder       string    `json:"folder"`
	UID          uint32    `json:"uid"`
	UIDL         string    `json:"uidl,omitempty"`
	ID           format.ID `json:"id"`
	Size         int64     `json:"size"`
	Flags        []string  `json:"flags"`
	InternalDate string    `json:"internal_date"`
	From         string    `json:"from"`
	Subject      string    `json:"subject"`
}

func selectSnapshot(c *cli.Context, a *archive.Archive) (archive.SnapshotInfo, error) {
	snaps, problems, err := a.Snapshots()
	if err != nil {
		return archive.SnapshotInfo{}, err
	}
	s, err := archive.SelectSnapshot(snaps, c.String("account"), c.String("snapshot"))
	if errors.Is(err, archive.ErrAccountNeeded) {
		// The command line is short of a flag, as with a usage error.
		return s, cli.Exit(err.Error(), exitStatusUsage)
	}
	if err != nil && len(problems) > 0 {
		err = fmt.Errorf("%w (%d snapshot files could not be read: %v)", err, len(problems), problems[0])
	}
	return s, err
}

func archiveLs(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	snap, err := selectSnapshot(c, a)
	if err != nil {
		return err
	}
	f, err := lsFilterFrom(c)
	if err != nil {
		return err
	}
	rd, _, err := a.OpenReader()
	if err != nil {
		return err
	}
	defer rd.Close()
	out := bufio.NewWriter(c.App.Writer)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	asJSON := c.Bool("json")
	if !asJSON {
		fmt.Fprintln(out, "FOLDER\tUID\tDATE\tFROM\tSUBJECT\tSIZE\tFLAGS\tID")
	}
	return a.ReadSnapshot(snap.ID, func(rec format.SnapshotRecord) error {
		m := rec.Message
		if m == nil || !f.keeps(m) {
			return nil
		}
		from, subject := headerSummary(rd, m.ID)
		if !f.matches(from, subject) {
			return nil
		}
		flags := []string(m.Flags)
		if flags == nil {
			flags = []string{}
		}
		date := m.InternalDate.Format(time.RFC3339)
		if asJSON {
			return enc.Encode(lsRecord{Account: snap.Account, Snapshot: snap.ID.String(), Folder: m.Folder, UID: m.UID, UIDL: m.UIDL,
				ID: m.ID, Size: m.Size, Flags: flags, InternalDate: date, From: from, Subject: subject})
		}
		for i, f := range flags {
			flags[i] = quoteIfNeeded(f)
		}
		_, err := fmt.Fprintf(out, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", format.QuoteName(m.Folder), m.UID, m.InternalDate.Format("2006-01-02 15:04"),
			quoteIfNeeded(from), quoteIfNeeded(subject), bytesHuman(m.Size), strings.Join(flags, " "), m.ID.Short())
		return err
	})
}

func archiveVerify(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	rep, err := a.Verify(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		unref := make([]string, len(rep.Unreferenced))
		for i, id := range rep.Unreferenced {
			unref[i] = id.String()
		}
		printJSON(c, map[string]any{"archive": a.Dir(), "intact": rep.OK(), "has_snapshots": rep.HasSnapshots(),
			"packs": rep.Packs, "index_files": rep.IndexFiles, "snapshots": rep.Snapshots, "chunks": rep.Chunks,
			"messages": rep.Messages, "records": rep.Records, "unreferenced": unref, "problems": rep.Problems, "notes": rep.Notes})
		if !rep.OK() || !rep.HasSnapshots() {
			return cli.Exit("", 1)
		}
		return nil
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(c.App.ErrWriter, "note:", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(c.App.Writer, "DAMAGED:", p)
	}
	fmt.Fprintf(c.App.Writer, "checked %d packs, %d index files, %d snapshots: %d chunks, %d messages, %d message records\n",
		rep.Packs, rep.IndexFiles, rep.Snapshots, rep.Chunks, rep.Messages, rep.Records)
	if !rep.OK() {
		return cli.Exit(fmt.Sprintf("archive %s is damaged: %d problems", a.Dir(), len(rep.Problems)), 1)
	}
	if !rep.HasSnapshots() {
		// Intact files, yet nothing says which account or folder the
		// stored messages belong to: not an archive to rely on.
		fmt.Fprintf(c.App.Writer, "NO SNAPSHOT: the archive holds no snapshot; its %d stored messages belong to no account (snapshot files deleted, or nothing exported yet)\n", rep.Messages)
		return cli.Exit(fmt.Sprintf("archive %s holds no snapshot", a.Dir()), 1)
	}
	if n := len(rep.Unreferenced); n > 0 {
		fmt.Fprintf(c.App.Writer, "archive intact; %d stored messages are named by no snapshot\n", n)
		return nil
	}
	fmt.Fprintln(c.App.Writer, "archive intact")
	return nil
}

// quoteIfNeeded quotes a keyword that would not print as itself.
func quoteIfNeeded(s string) string {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '"' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

// snapshotLine is one line of archive snapshots.
type snapshotLine struct {
	ID       string    `json:"snapshot"`
	Account  string    `json:"account"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Kind     string    `json:"kind"` // complete, checkpoint or repaired
	Folders  int       `json:"folders"`
	Messages int       `json:"messages"`
	Bytes    int64     `json:"bytes"`
}

func archiveSnapshots(c *cli.Context) error {
	a, err := openArchiveArg(c, 1)
	if err != nil {
		return err
	}
	snaps, problems, err := a.Snapshots()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	asJSON := c.Bool("json")
	if !asJSON {
		fmt.Fprintln(w, "SNAPSHOT\tACCOUNT\tSTARTED\tKIND\tFOLDERS\tMESSAGES\tSIZE")
	}
	enc := json.NewEncoder(c.App.Writer)
	for _, s := range snaps {
		if acct := c.String("account"); acct != "" && s.Account != acct {
			continue
		}
		l := snapshotLine{ID: s.ID.String(), Account: s.Account, Started: s.Started, Finished: s.Finished, Kind: snapshotKind(s)}
		err := a.ReadSnapshot(s.ID, func(rec format.SnapshotRecord) error {
			if rec.Folder != nil {
				l.Folders++
			} else if rec.Message != nil {
				l.Messages++
				l.Bytes += rec.Message.Size
			}
			return nil
		})
		if err != nil {
			return err
		}
		if asJSON {
			enc.Encode(l)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID.Short(), format.QuoteName(s.Account), s.Started.Format(time.RFC3339), l.Kind, l.Folders, l.Messages, bytesHuman(l.Bytes))
	}
	w.Flush()
	if len(problems) > 0 {
		return fmt.Errorf("%d snapshot files could not be read (run mailferry archive verify), the first: %v", len(problems), problems[0])
	}
	return nil
}
