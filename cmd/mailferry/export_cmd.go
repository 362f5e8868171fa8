package main

import (
	"errors"
	"fmt"
	"github.com/klauspost/compress/zstd"
	"github.com/mailferry/mailferry/internal/progress"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/urfave/cli/v2"
)

func exportCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "from", Usage: "the `SOURCE` to read (see above)"},
		&cli.StringFlag{Name: "archive", Usage: "archive `DIR` (created if missing)", Required: true},
		&cli.StringFlag{Name: "account", Usage: "record the snapshot under account `NAME` (default: USER@HOST for IMAP, pop3:USER@HOST for POP3, the store's path)"},
		&cli.IntFlag{Name: "connections", Value: 4, Usage: "IMAP only: download over `N` connections at once"},
		&cli.StringSliceFlag{Name: "include", Usage: "export only folders whose UTF-8 name matches `REGEX` (repeatable; imapsync --include)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip folders whose UTF-8 name matches `REGEX` (repeatable; imapsync --exclude)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "list folders with message counts and sizes (and how many are new); store nothing"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		reportFlag,
		sizeFlag("max-bytes-per-day", "download at most `BYTES` (2500M, 2.5GB) a day (UTC) from the server, counting the day's earlier runs with a budget, and leave the rest for the next run (Gmail: about 2,500 MB a day over IMAP); 0: no budget"),
		&cli.BoolFlag{Name: "delete-after-export", Usage: "POP3 only: delete each message from the server once the archive has committed it and read it back intact (the only way mailferry ever changes a source)"},
		&cli.StringFlag{Name: "compression", Usage: "zstd effort: `fast` (the default from IMAP and POP3: keeps pace with a fast server; the archive is about 15% larger) or better (the default from Maildir and mbox)"},
		&cli.DurationFlag{Name: "checkpoint-every", Value: export.DefaultCheckpointEvery, Usage: "make progress durable this often, so that a killed export resumes from there"},
	}
	return &cli.Command{
		Name:  "export",
		Usage: "copy a mailbox into an archive, as a new snapshot of its account",
		Description: "SOURCE is one of:\n" +
			"   imap://USER@HOST[:PORT]   IMAP, with STARTTLS when the server offers it (plaintext only to loopback\n" +
			"                             or with --allow-plaintext)\n" +
			"   imaps://USER@HOST[:PORT]  IMAP over TLS\n" +
			"   pop3://USER@HOST[:PORT]   POP3, with STLS when offered; pop3s:// for implicit TLS. Messages go to\n" +
			"                             folder INBOX; re-runs fetch only new UIDLs\n" +
			"   maildir:PATH              a Maildir++ tree (Dovecot, Courier layout; dovecot-keywords for custom keywords)\n" +
			"   mbox:PATH                 an mbox file or a directory of them (Status/X-Status/X-Keywords become flags)\n" +
			"Messages the archive already holds are not downloaded or stored again. The source is never changed\n" +
			"(but by --delete-after-export). A flag that means nothing to the source is refused, not ignored.\n" +
			"Exit status: 0 all exported, 3 some messages could not be exported (listed), 130 interrupted (run the\n" +
			"same command again to resume), 2 a command line that cannot run, 1 other errors.",
		Flags:  append(append(flags, accountsFlags()...), connFlags()...),
		Action: runExport,
	}
}

// exportSource is a kind of --from and how to open it.
type exportSource struct {
	schemes []string // as in SCHEME://... or SCHEME:PATH
	kind    string   // as messages name it
	server  bool     // reached over the network: takes the connection flags
	// only are the flags that apply to this source alone.
	only []string
	open func(c *cli.Context, from string) (export.Source, error)
}

// exportSources is every source export reads, by --from scheme.
var exportSources = []exportSource{
	{schemes: []string{"imap", "imaps"}, kind: "IMAP", server: true, only: []string{"connections"}, open: openServerSource},
	{schemes: []string{"pop3", "pop3s"}, kind: "POP3", server: true, only: []string{"delete-after-export"}, open: openServerSource},
	{schemes: []string{"maildir"}, kind: "Maildir", open: func(_ *cli.Context, from string) (export.Source, error) {
		return export.OpenMaildir(localPath(from))
	}},
	{schemes: []string{"mbox"}, kind: "mbox", open: func(_ *cli.Context, from string) (export.Source, error) {
		return export.OpenMbox(localPath(from))
	}},
}

// serverOnlyFlags are the connection flags that mean nothing to a store on
// disk; the throttles pace any source.
func serverOnlyFlags() map[string]bool {
	out := map[string]bool{}
	for _, f := range connFlags() {
		name := f.Names()[0]
		if !strings.HasPrefix(name, "max-") {
			out[name] = true
		}
	}
	return out
}

// sourceFor finds --from's source, and refuses a flag that does not apply
// to it rather than ignore it.
func sourceFor(c *cli.Context, from string) (exportSource, error) {
	scheme, rest, ok := strings.Cut(from, ":")
	var src exportSource
	found := false
	for _, s := range exportSources {
		if slices.Contains(s.schemes, strings.ToLower(scheme)) {
			src, found = s, true
		}
	}
	if !ok || rest == "" || !found {
		return src, cli.Exit(fmt.Sprintf("--from %q: want imap://USER@HOST, imaps://, pop3://, pop3s://, maildir:PATH or mbox:PATH", from), exitStatusUsage)
	}
	serverOnly := serverOnlyFlags()
	for _, name := range c.FlagNames() {
		if !c.IsSet(name) {
			continue
		}
		applies := !serverOnly[name] || src.server
		for _, s := range exportSources {
			if slices.Contains(s.only, name) {
				applies = slices.Contains(src.only, name)
			}
		}
		if !applies {
			return src, cli.Exit(fmt.Sprintf("--%s does not apply to %s sources (--from %s)", name, src.kind, from), exitStatusUsage)
		}
	}
	return src, nil
}

// localPath is the PATH of maildir:PATH or mbox:PATH.
func localPath(from string) string {
	_, path, _ := strings.Cut(from, ":")
	return expandHome(path)
}

func runExport(c *cli.Context) error {
	switch {
	case c.String("accounts") != "":
		if c.IsSet("from") || c.IsSet("account") || c.Bool("dry-run") || c.Bool("delete-after-export") {
			return cli.Exit("--accounts takes each source and account name from its rows and runs the exports: drop --from, --account, --dry-run and --delete-after-export", exitStatusUsage)
		}
		return exportAccounts(c)
	case c.String("from") == "":
		return cli.Exit("--from SOURCE names what to export (or --accounts FILE the sources of many accounts)", exitStatusUsage)
	}
	from := c.String("from")
	kind, err := sourceFor(c, from)
	if err != nil {
		return err
	}
	filter, err := folderFilter(c, nil)
	if err != nil {
		return err
	}
	wo, err := writerOptions(c, kind.server)
	if err != nil {
		return err
	}
	src, err := kind.open(c, from)
	if err != nil {
		return err
	}
	opts := export.Options{
		Account:           c.String("account"),
		Tool:              toolVersion(),
		CheckpointEvery:   c.Duration("checkpoint-every"),
		Writer:            wo,
		Filter:            filter,
		DryRun:            c.Bool("dry-run"),
		DeleteAfterExport: c.Bool("delete-after-export"),
		MaxBytesPerDay:    sizeOf(c, "max-bytes-per-day"),
		Progress:          new(progress.Progress),
	}
	if _, ok := src.(export.Concurrent); ok {
		opts.Connections = c.Int("connections")
	}
	if t := throttleFrom(c); t != nil {
		opts.Throttle = t
	}
	if opts.DryRun {
		// A dry run creates no archive: it reads one if there is one.
		var a *archive.Archive
		if _, err := os.Stat(c.String("archive")); err == nil {
			if a, err = archive.Open(c.String("archive")); err != nil {
				return err
			}
		}
		rep, err := export.Run(c.Context, a, src, opts)
		if err != nil {
			return err
		}
		for _, w := range rep.Warnings {
			fmt.Fprintln(c.App.ErrWriter, "warning:", w)
		}
		return printPlans(c, rep.Plan)
	}
	a, err := archive.OpenOrCreate(c.String("archive"))
	if err != nil {
		return err
	}
	rep, err := withProgress(c, opts.Progress, func() (*export.Report, error) { return export.Run(c.Context, a, src, opts) })
	return finishExport(c, rep, err)
}

// openServerSource dials nothing yet: connections open as the export
// needs them.
func openServerSource(c *cli.Context, from string) (export.Source, error) {
	dialer, ep, err := dialerFor(c, from)
	if err != nil {
		return nil, err
	}
	return serverSource(dialer, ep), nil
}

// serverSource is the export source of an IMAP or POP3 endpoint.
func serverSource(dialer *mailconn.Dialer, ep mailconn.Endpoint) export.Source {
	if ep.IsIMAP() {
		return export.NewIMAPSource(export.IMAPConfig{Endpoint: ep.String(), Account: ep.Account(), Dial: dialer.Dial, DialRaw: dialer.DialRaw})
	}
	return export.NewPOP3Source(export.POP3Config{Endpoint: ep.String(), UserHost: ep.Account(), Dial: dialer.DialPOP3})
}

func printPlans(c *cli.Context, plans []export.FolderPlan) error {
	if c.Bool("json") {
		return printJSON(c, plans)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FOLDER\tMESSAGES\tSIZE\tNEW\tNEW SIZE\tNOTE")
	var n, nn int
	var b, nb int64
	for _, p := range plans {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\n", p.Folder, p.Messages, bytesHuman(p.Bytes), p.New, bytesHuman(p.NewBytes), p.Note)
		n, nn, b, nb = n+p.Messages, nn+p.New, b+p.Bytes, nb+p.NewBytes
	}
	fmt.Fprintf(w, "total\t%d\t%s\t%d\t%s\t(dry run: nothing stored)\n", n, bytesHuman(b), nn, bytesHuman(nb))
	return w.Flush()
}

// finishExport prints the report and turns the outcome into the exit status.
func finishExport(c *cli.Context, rep *export.Report, err error) error {
	if rep != nil {
		printExportReport(c, rep)
		if werr := writeReport(c, rep); werr != nil && err == nil {
			err = werr
		}
	}
	if errors.Is(err, export.ErrBudgetSpent) && rep != nil {
		return cli.Exit(fmt.Sprintf("export incomplete: the daily download budget (--max-bytes-per-day) is spent; %d messages wait for the next run (run the same command tomorrow; what was stored is kept)", rep.Deferred), 3)
	}
	var failed int
	if rep != nil {
		failed = len(rep.Failures)
	}
	return exitStatus(err, "what was stored is kept; run the same command again to resume", "export", failed, "messages or folders")
}

func printExportReport(c *cli.Context, rep *export.Report) {
	if c.Bool("json") {
		printJSON(c, rep)
		return
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(c.App.ErrWriter, "FAILED: folder %q %s: %s\n", f.Folder, f.Item, f.Error)
	}
	fmt.Fprintf(c.App.Writer, "exported %s: %d folders, %d messages, %s; %d new messages stored in %s; snapshot %s (%s)\n",
		rep.Account, rep.Folders, rep.Messages, bytesHuman(rep.Bytes), rep.NewMessages, bytesHuman(rep.NewBytes),
		rep.Snapshot.Short(), rep.Duration.Round(1e6))
}

// writerOptions turns --compression into archive writer settings. From a
// server the default is fast: measured on 20,000 messages from a loopback
// Dovecot (bench/imap-export.sh), "better" held the export to about 1,600
// messages/s on two cores, compression taking half the CPU, where "fast"
// reached 2,600-3,100. From a server, frames are 1 MiB whatever the level:
// with 4 MiB ones in flight, "better" peaked at 107 MiB RSS.
func writerOptions(c *cli.Context, server bool) (archive.WriterOptions, error) {
	level := c.String("compression")
	var wo archive.WriterOptions
	if server {
		wo.FrameSize = 1 << 20
		if level == "" {
			level = "fast"
		}
	}
	switch level {
	case "better", "":
		wo.Level = zstd.SpeedBetterCompression
	case "fast":
		wo.Level, wo.FrameSize = zstd.SpeedFastest, 1<<20
	default:
		return wo, cli.Exit(fmt.Sprintf("--compression %q: want fast or better", level), 2)
	}
	return wo, nil
}
