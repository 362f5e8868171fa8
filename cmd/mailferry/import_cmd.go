package main

import (
	"encoding/json"
	"fmt"
	"github.com/mailferry/mailferry/importer/foldermap"
	"github.com/mailferry/mailferry/importer/transform"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/progress"
	"regexp"
	"text/tabwriter"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/importer"
	"github.com/urfave/cli/v2"
)

func importCommand() *cli.Command {
	flags := append(destinationFlags(),
		&cli.IntFlag{Name: "connections", Value: 1, Usage: "APPEND over `N` connections at once (one is fastest into Dovecot, which appends to a mailbox one connection at a time)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (folders, destination names, new and known messages) and change nothing"},
		&cli.StringFlag{Name: "dedup", Usage: "`message-id`: skip messages whose Message-ID and size or date already sit in the target folder (a destination filled some other way); messages without Message-ID are never skipped"},
	)
	return &cli.Command{
		Name:  "import",
		Usage: "replay an archive's snapshot into an IMAP server, exactly once",
		Description: "Every message of the snapshot (the account's latest unless --snapshot) is appended byte for byte\n" +
			"with its flags and internal date, into folders mapped to the destination's namespace and special\n" +
			"folders. The manifest remembers what went where: running the import again, or after it was killed,\n" +
			"appends each message exactly once. Exit status: 0 complete, 3 some messages failed (listed), 130\n" +
			"interrupted (run again to resume), 1 other errors.",
		Flags:  append(flags, connFlags()...),
		Action: runImport,
	}
}

// destinationFlags are shared by import and verify, which must map
// folders the same way.
func destinationFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "archive", Usage: "archive `DIR` to read", Required: true},
		&cli.StringFlag{Name: "to", Usage: "destination `URL`: imap://USER@HOST[:PORT] or imaps://…", Required: true},
		accountFlag, snapshotFlag,
		&cli.StringFlag{Name: "manifest", Usage: "the import's manifest `FILE` (default: inside the archive directory; give one for a read-only archive)"},
		&cli.StringSliceFlag{Name: "map", Usage: "rename folders: `REGEX=REPLACEMENT` on the destination-form name, in order (repeatable; imapsync --regextrans2)"},
		&cli.StringSliceFlag{Name: "include", Usage: "only folders matching `REGEX` (repeatable)"},
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip folders matching `REGEX` (repeatable)"},
		&cli.StringFlag{Name: "into", Usage: "place everything under `FOLDER` (INBOX becomes FOLDER itself; imapsync --subfolder2)"},
		&cli.BoolFlag{Name: "no-special-use", Usage: "do not map special folders (Sent, Drafts, Trash…) onto the destination's own"},
		&cli.BoolFlag{Name: "case-insensitive", Usage: "the destination folds folder-name case (Exchange, Office 365, Gmail)"},
		&cli.BoolFlag{Name: "json", Usage: "print the plan or report as JSON"},
		&cli.StringFlag{Name: "profile", Usage: "destination defaults: `NAME` is exchange, office365, gmail, cyrus or dovecot (line and size limits, flag quirks, read receipts, pace)"},
		&cli.BoolFlag{Name: "disarm-read-receipts", Usage: "rename Disposition-Notification-To so clients do not send read receipts again (imapsync --disarmreadreceipts)"},
		&cli.IntFlag{Name: "max-line-length", Usage: "re-encode MIME parts with lines over `N` bytes as quoted-printable, content unchanged (imapsync --maxlinelength)"},
		&cli.Int64Flag{Name: "max-size", Usage: "skip and list messages over `BYTES` (imapsync --maxsize)"},
		&cli.StringSliceFlag{Name: "add-header", Usage: "add header `'Name: value'` to every message (repeatable)"},
		&cli.StringSliceFlag{Name: "remove-header", Usage: "remove header `NAME` from every message (repeatable)"},
		&cli.StringSliceFlag{Name: "flag-map", Usage: "rename flags: `REGEX=REPLACEMENT`; an empty replacement drops the flag (repeatable; imapsync --regexflag)"},
		&cli.BoolFlag{Name: "provenance", Usage: "add X-Mailferry-Source naming the source account, folder and UID"},
	}
}

// destination is what import and verify need: the archive, the snapshot,
// the options for the destination and its open manifest.
type destination struct {
	a        *archive.Archive
	snap     archive.SnapshotInfo
	endpoint string
	opts     importer.IMAPOptions
}

func openDestination(c *cli.Context) (*destination, error) {
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
	rules, err := foldermap.ParseRules(c.StringSlice("map"))
	if err != nil {
		return nil, cli.Exit(err.Error(), 2)
	}
	include, err := regexps(c, "include")
	if err != nil {
		return nil, err
	}
	exclude, err := regexps(c, "exclude")
	if err != nil {
		return nil, err
	}
	path := c.String("manifest")
	if path == "" {
		path = importer.DefaultManifestPath(a.Dir(), ep.Account()+"_"+fmt.Sprint(ep.Port))
	}
	tr, err := transformsFrom(c, snap.Account)
	if err != nil {
		return nil, err
	}
	m, err := importer.OpenManifest(path)
	if err != nil {
		return nil, err
	}
	return &destination{a: a, snap: snap, endpoint: ep.String(), opts: importer.IMAPOptions{
		Dial:         dialer.Dial,
		DialAppender: dialer.DialAppender,
		Snapshot:     snap,
		Folders: foldermap.Options{Rules: rules, Include: include, Exclude: exclude, Into: c.String("into"),
			NoSpecialUse: c.Bool("no-special-use")},
		CaseInsensitive: c.Bool("case-insensitive"),
		Connections:     c.Int("connections"),
		Throttle:        throttleFrom(c),
		Manifest:        m,
		Transforms:      tr,
	}}, nil
}

func regexps(c *cli.Context, name string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, s := range c.StringSlice(name) {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("--%s %q: %v", name, s, err), 2)
		}
		out = append(out, re)
	}
	return out, nil
}

func runImport(c *cli.Context) error {
	d, err := openDestination(c)
	if err != nil {
		return err
	}
	defer d.opts.Manifest.Close()
	a, opts, snap := d.a, d.opts, d.snap
	if opts.Throttle == nil && opts.Transforms.Profile.MessagesPerSecond > 0 {
		opts.Throttle = mailconn.NewThrottle(opts.Transforms.Profile.MessagesPerSecond, 0)
	}
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
		return printImportPlan(c, plans)
	}
	opts.Progress = new(progress.Progress)
	var rep *importer.ImportReport
	err = runWithProgress(c, opts.Progress, func() error {
		var err error
		rep, err = importer.ImportIMAP(c.Context, a, opts)
		return err
	})
	if rep != nil {
		printImportReport(c, snap, d.endpoint, rep)
	}
	var failed int
	if rep != nil {
		failed = len(rep.Failures)
	}
	return exitStatus(err, "what landed is in the manifest; run the same command again to resume", "import", failed, "messages")
}

func printImportPlan(c *cli.Context, plans []importer.FolderPlan) error {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(plans)
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tDESTINATION\tEXISTS\tNEW\tNEW SIZE\tALREADY\tPENDING\tNOTES")
	for _, p := range plans {
		m := p.Mapping
		dest := m.Dest
		if m.Excluded {
			dest = "(excluded)"
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%s\t%d\t%d\t%s\n", m.Source.Name, dest, m.Exists, p.New, bytesHuman(p.NewBytes), p.Already, p.Pending, joinChanges(m.Changes))
	}
	fmt.Fprintln(w, "(dry run: nothing changed on the destination)")
	return w.Flush()
}

func joinChanges(ch []string) string {
	out := ""
	for i, c := range ch {
		if i > 0 {
			out += "; "
		}
		out += c
	}
	return out
}

func printImportReport(c *cli.Context, snap archive.SnapshotInfo, dest string, rep *importer.ImportReport) {
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(c.App.ErrWriter, "FAILED: folder %q %s: %s\n", f.Folder, f.Item, f.Error)
	}
	fmt.Fprintf(c.App.Writer, "imported snapshot %s of %s into %s: %d appended (%s), %d already there, %d settled from an interrupted run, %d duplicates skipped, %d folders created (%s)\n",
		snap.ID.Short(), snap.Account, dest, rep.Appended, bytesHuman(rep.Bytes), rep.Already, rep.Settled, rep.Duplicates, len(rep.Created), rep.Duration.Round(1e6))
}

// transformsFrom builds the import transforms from --profile and the
// options that add to or override it.
func transformsFrom(c *cli.Context, account string) (transform.Set, error) {
	var t transform.Set
	if name := c.String("profile"); name != "" {
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
		t.MaxSize = c.Int64("max-size")
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
