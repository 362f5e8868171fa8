package main

import (
	"fmt"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/importer/transform"
	"github.com/mailferry/mailferry/internal/accounts"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/progress"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/importer"
	"github.com/urfave/cli/v2"
)

func importCommand() *cli.Command {
	flags := append(destinationFlags(),
		&cli.IntFlag{Name: "connections", Value: 1, Usage: "APPEND over `N` connections at once (one is fastest into Dovecot, which appends to a mailbox one connection at a time)"},
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"dry"}, Usage: "print the plan (folders, destination names, new and known messages) and change nothing"},
		&cli.StringFlag{Name: "dedup", Usage: "`message-id`: take a message the manifest does not know for one already in the target folder on the same Message-ID and size or date alone (by default its bytes must match too)"},
		sizeFlag("max-bytes-per-day", "append at most `BYTES` (500M, 1GB) a day (UTC) to this destination, earlier runs of the day counted, and leave the rest for the next run; 0: no budget (--profile gmail: 500M, Gmail's upload allowance over IMAP)"),
		reportFlag,
		&cli.BoolFlag{Name: "delete", Usage: "expunge from the destination folders the messages earlier imports put there that this snapshot no longer has; never anything else (imapsync --delete2)"},
	)
	return &cli.Command{
		Name:  "import",
		Usage: "replay an archive's snapshot into an IMAP server, exactly once",
		Description: "Every message of the snapshot (the account's latest unless --snapshot) is appended byte for byte\n" +
			"(line ends sent as CRLF) with its flags and internal date, into folders mapped to the destination's\n" +
			"namespace and special folders. The manifest remembers what went where, and is checked against the\n" +
			"destination before it is believed: what the destination lost is restored, what it holds already\n" +
			"(even unknown to the manifest, by content) is not appended twice. A newer snapshot updates flags,\n" +
			"and with --delete removes what the source expunged. Exit status: 0 complete, 3 some messages failed\n" +
			"(listed), 130 interrupted (run again to resume), 2 usage, 1 other errors.",
		Flags:  append(append(flags, accountsFlags()...), connFlags()...),
		Action: runImport,
	}
}

// destinationFlags are shared by import and verify, which must map
// folders the same way.
func destinationFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "archive", Usage: "archive `DIR` to read", Required: true},
		&cli.StringFlag{Name: "to", Usage: "destination `URL`: imap://USER@HOST[:PORT] or imaps://…"},
		accountFlag, snapshotFlag,
		&cli.StringFlag{Name: "manifest", Usage: "the import's manifest `FILE` (default: inside the archive directory; give one for a read-only archive)"},
		&cli.StringSliceFlag{Name: "map", Aliases: []string{"regextrans2"}, Usage: "rename folders: `REGEX=REPLACEMENT` or imapsync's 's/REGEX/REPLACEMENT/' on the destination-form name, in order (repeatable; imapsync --regextrans2)"},
		&cli.StringSliceFlag{Name: "include", Usage: "only folders matching `REGEX` (repeatable)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip folders matching `REGEX` (repeatable)"},
		&cli.StringFlag{Name: "into", Aliases: []string{"subfolder2"}, Usage: "place everything under `FOLDER` (INBOX becomes FOLDER itself; imapsync --subfolder2)"},
		&cli.BoolFlag{Name: "no-special-use", Usage: "do not map special folders (Sent, Drafts, Trash…) onto the destination's own"},
		&cli.BoolFlag{Name: "case-insensitive", Usage: "the destination folds folder-name case (Exchange, Office 365, Gmail)"},
		&cli.BoolFlag{Name: "json", Usage: "print the plan or report as JSON"},
		&cli.StringFlag{Name: "profile", Usage: "destination defaults: `NAME` is exchange, office365, gmail, cyrus or dovecot (line and size limits, flag quirks, read receipts, pace)"},
		&cli.BoolFlag{Name: "disarm-read-receipts", Aliases: []string{"disarmreadreceipts"}, Usage: "rename Disposition-Notification-To so clients do not send read receipts again (imapsync --disarmreadreceipts)"},
		&cli.IntFlag{Name: "max-line-length", Aliases: []string{"maxlinelength"}, Usage: "re-encode MIME parts with lines over `N` bytes as quoted-printable, content unchanged (imapsync --maxlinelength)"},
		sizeFlag("max-size", "skip and list messages over `BYTES` (10M, 35MB, 1.5GiB; imapsync --maxsize); 0: no limit beyond the profile's", "maxsize"),
		&cli.StringSliceFlag{Name: "add-header", Usage: "add header `'Name: value'` to every message (repeatable)"},
		&cli.StringSliceFlag{Name: "remove-header", Usage: "remove header `NAME` from every message (repeatable)"},
		&cli.StringSliceFlag{Name: "flag-map", Aliases: []string{"regexflag"}, Usage: "rename flags: `REGEX=REPLACEMENT`; an empty replacement drops the flag (repeatable; imapsync --regexflag)"},
		&cli.BoolFlag{Name: "provenance", Usage: "add X-Mailferry-Source naming the source account, folder and UID"},
	}
}

// destination is what import and verify need: the archive, the snapshot,
// the options for the destination and its open manifest.
type destination struct {
	host     string
	a        *archive.Archive
	snap     archive.SnapshotInfo
	endpoint string
	opts     importer.IMAPOptions
}

func openDestination(c *cli.Context) (*destination, error) {
	if c.String("to") == "" {
		return nil, cli.Exit("--to URL names the destination (or --accounts FILE the destinations of many accounts)", exitStatusUsage)
	}
	a, err := archive.Open(c.String("archive"))
	if err != nil {
		return nil, err
	}
	snap, err := selectSnapshot(c, a)
	if err != nil {
		return nil, err
	}
	dialer, ep, err := dialerFor(c, c.String("to"))
	if err != nil {
		return nil, err
	}
	return destinationFor(c, a, snap, dialer, ep, nil)
}

// destinationFor builds the import options for one destination from the
// flags, which row (an accounts file's, or nil) overrides.
func destinationFor(c *cli.Context, a *archive.Archive, snap archive.SnapshotInfo, dialer *mailconn.Dialer, ep mailconn.Endpoint, row *accounts.Account) (*destination, error) {
	rules, err := foldermap.ParseRules(c.StringSlice("map"))
	if err != nil {
		return nil, cli.Exit(err.Error(), 2)
	}
	into, profile := c.String("into"), c.String("profile")
	if row != nil {
		if row.Into != "" {
			into = row.Into
		}
		if row.Profile != "" {
			profile = row.Profile
		}
	}
	ff, err := folderFilter(c, row)
	if err != nil {
		return nil, err
	}
	tr, err := transformsFrom(c, snap.Account, profile)
	if err != nil {
		return nil, err
	}
	m, err := openManifest(c, a, ep)
	if err != nil {
		return nil, err
	}
	// The flags win over the profile's budget and pace.
	maxPerDay := tr.Profile.MaxBytesPerDay
	if c.IsSet("max-bytes-per-day") {
		maxPerDay = sizeOf(c, "max-bytes-per-day")
	}
	throttle := throttleFrom(c)
	if throttle == nil && tr.Profile.MessagesPerSecond > 0 {
		throttle = mailconn.NewThrottle(tr.Profile.MessagesPerSecond, 0)
	}
	return &destination{host: ep.Host, a: a, snap: snap, endpoint: ep.String(), opts: importer.IMAPOptions{
		Dial:           dialer.Dial,
		DialAppender:   dialer.DialAppender,
		Destination:    ep.String(),
		Delete:         c.Bool("delete"),
		MaxBytesPerDay: maxPerDay,
		Snapshot:       snap,
		Folders: foldermap.Options{Rules: rules, Include: ff.Include, Exclude: ff.Exclude, Into: into,
			NoSpecialUse: c.Bool("no-special-use"), Reserved: tr.Profile.ReservedFolders, CollapseSpaces: tr.Profile.CollapseSpaces},
		CaseInsensitive: c.Bool("case-insensitive") || tr.Profile.CaseInsensitive,
		Connections:     c.Int("connections"),
		Throttle:        throttle,
		Manifest:        m,
		Transforms:      tr,
	}}, nil
}

// openManifest opens --manifest, or the destination's own in the archive.
func openManifest(c *cli.Context, a *archive.Archive, ep mailconn.Endpoint) (*importer.Manifest, error) {
	path := c.String("manifest")
	if path == "" {
		path = importer.DefaultManifestPath(a.Dir(), importer.Destination{Host: ep.Host, Port: ep.Port, User: ep.User})
	}
	return importer.OpenManifest(path)
}

func regexps(name string, specs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, s := range specs {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("--%s %q: %v", name, s, err), 2)
		}
		out = append(out, re)
	}
	return out, nil
}

func runImport(c *cli.Context) error {
	if c.String("accounts") != "" {
		if c.Bool("dry-run") || c.IsSet("to") {
			return cli.Exit("--accounts takes each destination from its rows and runs the imports: drop --to and --dry-run", exitStatusUsage)
		}
		return importAccounts(c)
	}
	d, err := openDestination(c)
	if err != nil {
		return err
	}
	defer d.opts.Manifest.Close()
	a, opts := d.a, d.opts
	switch c.String("dedup") {
	case "":
	case "message-id":
		opts.DedupMessageID = true
	default:
		return cli.Exit(fmt.Sprintf("--dedup %q: the only kind is message-id", c.String("dedup")), 2)
	}
	if c.Bool("dry-run") {
		plans, err := importer.PlanIMAP(c.Context, a, opts)
		if err != nil {
			return err
		}
		if err := printImportPlan(c, plans); err != nil {
			return err
		}
		if p, ok := transform.ProfileForHost(d.host); ok && opts.Transforms.Profile.Name == "" {
			fmt.Fprintf(c.App.ErrWriter, "%s is %s: consider --profile %s (its limits, folder names and pace)\n", d.host, p.Name, p.Name)
		}
		return nil
	}
	opts.Progress = new(progress.Progress)
	var rep *importer.ImportReport
	err = runWithProgress(c, opts.Progress, func() error {
		var err error
		rep, err = importer.ImportIMAP(c.Context, a, opts)
		return err
	})
	if rep != nil {
		printImportReport(c, rep, err)
		if werr := writeReport(c, rep); werr != nil && err == nil {
			err = werr
		}
	}
	var failed int
	if rep != nil {
		failed = len(rep.Failed)
		if rep.Deferred > 0 && err == nil {
			if failed == 0 {
				return cli.Exit(fmt.Sprintf("import incomplete: the daily byte budget is spent; %d messages (%s) wait for the next run (run the same command tomorrow)",
					rep.Deferred, bytesHuman(rep.DeferredBytes)), 3)
			}
			fmt.Fprintf(c.App.ErrWriter, "%d messages (%s) wait for the next run: the daily byte budget is spent\n", rep.Deferred, bytesHuman(rep.DeferredBytes))
		}
		if rep.ArchiveDamage {
			fmt.Fprintf(c.App.ErrWriter, "some messages could not be read from the archive: run mailferry archive verify %s\n", a.Dir())
		}
	}
	return exitStatus(err, "what landed is in the manifest; run the same command again to resume", "import", failed, "messages")
}

func printImportPlan(c *cli.Context, plans []importer.FolderPlan) error {
	if c.Bool("json") {
		return printJSON(c, map[string]any{"folders": plans})
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tDESTINATION\tEXISTS\tNEW\tNEW SIZE\tALREADY THERE\tRESTORE\tPENDING\tFLAGS TO UPDATE\tTO DELETE\tSKIPPED\tUNKNOWN AT DEST\tNOTES")
	for _, p := range plans {
		dest := p.Dest
		if p.Excluded {
			dest = "(excluded)"
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Source, dest, p.Exists, p.New, bytesHuman(p.NewBytes),
			p.AlreadyThere, p.Restore, p.Pending, p.FlagsToUpdate, p.ToDelete, p.Skipped, p.Unknown, strings.Join(p.Notes, "; "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "UNKNOWN AT DEST: messages in the destination folder that no manifest entry claims; each new message is")
	fmt.Fprintln(c.App.Writer, "compared with them (Message-ID and size, then its bytes) and not appended when it is already there.")
	fmt.Fprintln(c.App.Writer, "(dry run: nothing changed on the destination)")
	return nil
}

// printImportReport prints what the import did: a failure first, then
// every failed and skipped message, then the counts.
func printImportReport(c *cli.Context, rep *importer.ImportReport, runErr error) {
	if c.Bool("json") {
		printJSON(c, rep)
		return
	}
	out, errw := c.App.Writer, c.App.ErrWriter
	switch {
	case runErr != nil:
		fmt.Fprintf(errw, "import FAILED: %v\n", runErr)
	case !rep.Complete():
		fmt.Fprintf(errw, "import INCOMPLETE: %d messages not imported (listed below)\n", len(rep.Failed))
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(errw, "FAILED  %s\n", describeItem(f))
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(out, "SKIPPED %s\n", describeItem(s))
	}
	verb := "imported"
	if runErr != nil || !rep.Complete() {
		verb = "partly imported"
	}
	fmt.Fprintf(out, "%s snapshot %s of %s into %s in %s:\n", verb, rep.Snapshot[:12], rep.Account, rep.Destination, rep.Duration.Round(1e6))
	fmt.Fprintf(out, "  appended %d (%s), restored %d, already there %d, settled %d, duplicates skipped %d\n",
		rep.Appended, bytesHuman(rep.Bytes), rep.Restored, rep.AlreadyThere, rep.Settled, rep.DuplicatesSkipped)
	fmt.Fprintf(out, "  flags updated %d, deleted %d, skipped %d, failed %d, folders created %d\n",
		rep.FlagsUpdated, rep.Deleted, len(rep.Skipped), len(rep.Failed), len(rep.Created))
	if rep.Throttled > 0 {
		fmt.Fprintf(out, "  the server asked to slow down %d times: waited %s in all, and sent those messages again\n", rep.Throttled, rep.ThrottleWait.Round(1e6))
	}
	for _, why := range importer.Reasons(rep.RestoredWhy) {
		fmt.Fprintf(out, "  restored %d: %s\n", rep.RestoredWhy[why], why)
	}
	for _, k := range importer.Reasons(rep.SkippedByReason) {
		fmt.Fprintf(out, "  skipped %d: %s\n", rep.SkippedByReason[k], k)
	}
	for _, k := range importer.Reasons(rep.Transformed) {
		fmt.Fprintf(out, "  transformed %d: %s\n", rep.Transformed[k], k)
	}
}

// describeItem names a message of a report: folder, source UID, archive
// ID, and why.
func describeItem(it importer.Item) string {
	id := fmt.Sprintf("uid %d", it.UID)
	if it.UIDL != "" {
		id = "UIDL " + it.UIDL
	}
	msg := it.Message
	if len(msg) > 12 {
		msg = msg[:12]
	}
	dest := ""
	if it.Dest != "" && it.Dest != it.Folder {
		dest = fmt.Sprintf(" -> %q", it.Dest)
	}
	return fmt.Sprintf("folder %q%s %s (message %s): %s", it.Folder, dest, id, msg, it.Reason)
}

// transformsFrom builds the import transforms from --profile and the
// options that add to or override it.
func transformsFrom(c *cli.Context, account, profile string) (transform.Set, error) {
	var t transform.Set
	if name := profile; name != "" {
		p, err := transform.ProfileByName(name)
		if err != nil {
			return t, cli.Exit("--profile: "+err.Error(), 2)
		}
		t = p.Transforms()
	}
	if c.Bool("disarm-read-receipts") {
		t.Headers.DisarmReadReceipts = true
	}
	if c.IsSet("max-line-length") {
		t.MaxLineLength = c.Int("max-line-length")
	}
	if c.IsSet("max-size") {
		t.MaxSize = sizeOf(c, "max-size")
	}
	for _, spec := range c.StringSlice("add-header") {
		h, err := transform.ParseHeaderAdd(spec)
		if err != nil {
			return t, cli.Exit("--add-header: "+err.Error(), 2)
		}
		t.Headers.Add = append(t.Headers.Add, h)
	}
	for _, name := range c.StringSlice("remove-header") {
		n, err := transform.ParseHeaderRemove(name)
		if err != nil {
			return t, cli.Exit("--remove-header: "+err.Error(), 2)
		}
		t.Headers.Remove = append(t.Headers.Remove, n)
	}
	rules, err := transform.ParseFlagMapRules(c.StringSlice("flag-map"))
	if err != nil {
		return t, cli.Exit("--flag-map: "+err.Error(), 2)
	}
	t.Flags.Map = append(t.Flags.Map, rules...)
	if c.Bool("provenance") {
		t.ProvenanceAccount = account
	}
	if err := t.Validate(); err != nil {
		return t, cli.Exit(err.Error(), 2)
	}
	return t, nil
}
