package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/importer"
	"github.com/mailferry/mailferry/internal/accounts"
	"github.com/mailferry/mailferry/internal/bulk"
	"github.com/mailferry/mailferry/internal/mailconn"
	"github.com/mailferry/mailferry/internal/oauth"
	"github.com/urfave/cli/v2"
)

// accountsFlags make a command run for every account of an accounts file.
func accountsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "accounts", Usage: "run for every account of the CSV `FILE` (README: bulk migrations); --to, the password and folder options then come from its rows"},
		&cli.IntFlag{Name: "parallel", Value: 4, Usage: "with --accounts, run `N` accounts at once"},
		&cli.IntFlag{Name: "per-host", Usage: "with --accounts, at most `N` accounts at once against one server host (0: only --parallel)"},
		&cli.StringFlag{Name: "shard", Usage: "with --accounts, run only share `I/N` of them (0 <= I < N, the same account always in the same share; Kubernetes: $JOB_COMPLETION_INDEX/N)"},
	}
}

// loadAccounts reads --accounts and keeps this --shard's.
func loadAccounts(c *cli.Context) ([]accounts.Account, error) {
	f, err := os.Open(c.String("accounts"))
	if err != nil {
		return nil, cli.Exit("--accounts: "+err.Error(), exitStatusUsage)
	}
	defer f.Close()
	all, err := accounts.Parse(f)
	if err != nil {
		return nil, cli.Exit("--accounts: "+err.Error(), exitStatusUsage)
	}
	shard := accounts.Shard{Count: 1}
	if s := c.String("shard"); s != "" {
		if shard, err = accounts.ParseShard(s); err != nil {
			return nil, cli.Exit(err.Error(), exitStatusUsage)
		}
	}
	return shard.Of(all), nil
}

// sideDialer builds the Dialer of one side of an account: the flags'
// connection settings with the row's user, admin login and secret.
func sideDialer(c *cli.Context, side accounts.Side) (*mailconn.Dialer, mailconn.Endpoint, error) {
	opts, err := connOptions(c)
	if err != nil {
		return nil, mailconn.Endpoint{}, err
	}
	opts.AuthUser = side.AuthUser
	opts.Password = mailconn.PasswordSource{File: side.PasswordFile, Command: side.PasswordCommand, Env: side.PasswordEnv}
	switch {
	case side.OAuth2TokenFile != "":
		opts.Token = oauth.FileSource{Path: side.OAuth2TokenFile}
	case side.OAuth2TokenCommand != "":
		opts.Token = oauth.CommandSource{Command: side.OAuth2TokenCommand}
	case side.OAuth2Cache != "":
		opts.Token = &oauth.CachedSource{Path: side.OAuth2Cache}
	}
	return newDialer(side.UserURL(), opts)
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return strings.ToLower(u.Hostname())
}

// runAccounts runs one job per account with a destination (or source)
// side, prints the table and the JSON report, and says how it went in the
// exit status: 0 when every account completed, 3 when some did not (each
// named), 130 when interrupted.
func runAccounts(c *cli.Context, command string, side func(accounts.Account) accounts.Side, do func(context.Context, accounts.Account) bulk.Result) error {
	accts, err := loadAccounts(c)
	if err != nil {
		return err
	}
	var jobs []bulk.Job
	byName := map[string]accounts.Account{}
	for _, a := range accts {
		s := side(a)
		if s.URL == "" {
			continue
		}
		jobs = append(jobs, bulk.Job{Name: a.Name, Hosts: []string{hostOf(s.URL)}})
		byName[a.Name] = a
	}
	if len(jobs) == 0 {
		return cli.Exit(fmt.Sprintf("--accounts: no account of this shard has a %s side", command), exitStatusUsage)
	}
	live := newLiveStatus(c, command)
	results := bulk.Run(c.Context, jobs, bulk.Options{Parallel: c.Int("parallel"), PerHost: c.Int("per-host"), Progress: live.update},
		func(ctx context.Context, j bulk.Job) bulk.Result { return do(ctx, byName[j.Name]) })
	live.done()
	printAccountsTable(c, command, results)
	if err := writeReport(c, map[string]any{"command": command, "accounts": results}); err != nil {
		return err
	}
	if c.Context.Err() != nil {
		return exitStatus(errStopped, "run the same command again: each account carries on where it stopped", command, 0, "")
	}
	var failed []string
	for _, r := range results {
		if !r.Complete() {
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return cli.Exit(fmt.Sprintf("%s incomplete: %d of %d accounts did not complete: %s", command, len(failed), len(results), strings.Join(failed, ", ")), 3)
	}
	return nil
}

func printAccountsTable(c *cli.Context, command string, results []bulk.Result) {
	if c.Bool("json") {
		printJSON(c, map[string]any{"command": command, "accounts": results})
		return
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tFOLDERS\tMESSAGES\tBYTES\tSKIPPED\tFAILED\tTIME\tRESULT")
	for _, r := range results {
		result := "ok"
		switch {
		case r.Error != "":
			result = "FAILED: " + r.Error
		case r.Failed > 0:
			result = "INCOMPLETE"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%d\t%s\t%s\n", r.Name, r.Folders, r.Messages, bytesHuman(r.Bytes), r.Skipped, r.Failed, r.Duration.Round(time.Millisecond), result)
	}
	w.Flush()
}

// liveStatus shows the whole run on stderr, at most once a second: on a
// terminal one line rewritten, else a log line.
type liveStatus struct {
	c       *cli.Context
	command string
	mu      sync.Mutex
	last    time.Time
	tty     bool
}

func newLiveStatus(c *cli.Context, command string) *liveStatus {
	fi, err := os.Stderr.Stat()
	return &liveStatus{c: c, command: command, tty: err == nil && fi.Mode()&os.ModeCharDevice != 0 && c.App.ErrWriter == os.Stderr}
}

func (l *liveStatus) update(s bulk.Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.last) < time.Second && s.Done < s.Total {
		return
	}
	l.last = time.Now()
	elapsed := time.Since(s.Started)
	line := fmt.Sprintf("%s: accounts %d of %d done, %d running, %d failed; %d messages, %s; %.0f msg/s",
		l.command, s.Done, s.Total, s.Running, s.Failed, s.Messages, bytesHuman(s.Bytes), float64(s.Messages)/max(elapsed.Seconds(), 0.001))
	if s.Done > 0 && s.Done < s.Total {
		line += fmt.Sprintf(", about %s left", (elapsed / time.Duration(s.Done) * time.Duration(s.Total-s.Done)).Round(time.Second))
	}
	if l.tty {
		fmt.Fprintf(l.c.App.ErrWriter, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(l.c.App.ErrWriter, line)
	}
}

func (l *liveStatus) done() {
	if l.tty {
		fmt.Fprintln(l.c.App.ErrWriter)
	}
}

// importAccounts is import --accounts: each account's latest snapshot (its
// name in the archive is the row's account) into its destination.
func importAccounts(c *cli.Context) error {
	a, err := archive.Open(c.String("archive"))
	if err != nil {
		return err
	}
	// One index in memory for every account, however many run at once;
	// each account reads through a reader of its own (frames cached per
	// reader: accounts read different parts of the archive).
	idx, _, err := a.Index()
	if err != nil {
		return err
	}
	return runAccounts(c, "import", func(r accounts.Account) accounts.Side { return r.Destination },
		func(ctx context.Context, row accounts.Account) bulk.Result {
			rep, err := importAccount(ctx, c, a, idx, row)
			res := bulk.Result{}
			if rep != nil {
				res = bulk.Result{Folders: len(rep.Created), Messages: rep.Appended + rep.Restored, Bytes: rep.Bytes,
					Skipped: len(rep.Skipped), Failed: len(rep.Failed) + rep.Deferred, Duration: rep.Duration, Report: rep}
			}
			if err != nil {
				res.Error = err.Error()
			}
			return res
		})
}

func importAccount(ctx context.Context, c *cli.Context, a *archive.Archive, idx *archive.Index, row accounts.Account) (*importer.ImportReport, error) {
	snaps, _, err := a.Snapshots()
	if err != nil {
		return nil, err
	}
	snap, err := archive.SelectSnapshot(snaps, row.Name, "")
	if err != nil {
		return nil, err
	}
	dialer, ep, err := sideDialer(c, row.Destination)
	if err != nil {
		return nil, err
	}
	d, err := destinationFor(c, a, snap, dialer, ep, &row)
	if err != nil {
		return nil, err
	}
	defer d.opts.Manifest.Close()
	rd, err := a.NewReader(idx)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	opts := d.opts
	opts.Reader = rd
	return importer.ImportIMAP(ctx, a, opts)
}

// verifyAccounts is verify --accounts.
func verifyAccounts(c *cli.Context) error {
	a, err := archive.Open(c.String("archive"))
	if err != nil {
		return err
	}
	return runAccounts(c, "verify", func(r accounts.Account) accounts.Side { return r.Destination },
		func(ctx context.Context, row accounts.Account) bulk.Result {
			dialer, ep, err := sideDialer(c, row.Destination)
			if err != nil {
				return bulk.Result{Error: err.Error()}
			}
			m, err := openManifest(c, a, ep)
			if err != nil {
				return bulk.Result{Error: err.Error()}
			}
			defer m.Close()
			rep, err := importer.VerifyIMAP(ctx, a, importer.VerifyOptions{Dial: dialer.Dial, Destination: ep.String(), Manifest: m,
				Account: row.Name, Quick: c.Bool("quick")})
			if err != nil {
				return bulk.Result{Error: "could not check: " + err.Error()}
			}
			res := bulk.Result{Folders: len(rep.Folders), Duration: rep.Duration, Report: rep}
			for _, f := range rep.Folders {
				res.Messages += f.Verified
				res.Skipped += len(f.Skipped)
				res.Failed += len(f.Missing) + len(f.Changed) + len(f.Extra)
			}
			return res
		})
}

// exportAccounts is export --accounts: every account's source into the one
// archive, under the row's account name.
func exportAccounts(c *cli.Context) error {
	wo, err := writerOptions(c, true)
	if err != nil {
		return err
	}
	if _, err := archive.OpenOrCreate(c.String("archive")); err != nil {
		return err
	}
	return runAccounts(c, "export", func(r accounts.Account) accounts.Side { return r.Source },
		func(ctx context.Context, row accounts.Account) bulk.Result {
			rep, err := exportAccount(ctx, c, wo, row)
			res := bulk.Result{}
			if rep != nil {
				res = bulk.Result{Folders: rep.Folders, Messages: rep.Messages, Bytes: rep.Bytes, Failed: len(rep.Failures), Duration: rep.Duration, Report: rep}
			}
			if err != nil {
				res.Error = err.Error()
			}
			return res
		})
}

func exportAccount(ctx context.Context, c *cli.Context, wo archive.WriterOptions, row accounts.Account) (*export.Report, error) {
	// An archive of its own per account: writers of one archive share
	// nothing but its files, as separate processes would.
	a, err := archive.Open(c.String("archive"))
	if err != nil {
		return nil, err
	}
	dialer, ep, err := sideDialer(c, row.Source)
	if err != nil {
		return nil, err
	}
	src := serverSource(dialer, ep) // recorded under row.Name: see opts
	filter, err := folderFilter(c, &row)
	if err != nil {
		return nil, err
	}
	opts := export.Options{Account: row.Name, Tool: toolVersion(), CheckpointEvery: c.Duration("checkpoint-every"), Writer: wo,
		Filter: filter, Throttle: throttleFrom(c), MaxBytesPerDay: sizeOf(c, "max-bytes-per-day")}
	if _, ok := src.(export.Concurrent); ok {
		opts.Connections = c.Int("connections")
	}
	return export.Run(ctx, a, src, opts)
}

// folderFilter is --include and --exclude, or a row's own where it gives
// them.
func folderFilter(c *cli.Context, row *accounts.Account) (ff export.FolderFilter, err error) {
	includes, excludes := c.StringSlice("include"), c.StringSlice("exclude")
	if row != nil && len(row.Include) > 0 {
		includes = row.Include
	}
	if row != nil && len(row.Exclude) > 0 {
		excludes = row.Exclude
	}
	if ff.Include, err = regexps("include", includes); err != nil {
		return ff, err
	}
	ff.Exclude, err = regexps("exclude", excludes)
	return ff, err
}
