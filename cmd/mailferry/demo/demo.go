package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailferry/mailferry/archive"
	"github.com/mailferry/mailferry/export"
	"github.com/mailferry/mailferry/importer"
	"github.com/mailferry/mailferry/internal/mailconn"
)

// Result is what a demo run did, for the command to print and tests to check.
type Result struct {
	Seeded   int
	Export   *export.Report
	Import   *importer.ImportReport
	Verify   *importer.VerifyReport
	Archive  string
	Manifest string
}

// Run does the whole job once and tells out what it does. The archive goes
// to archiveDir, which must not hold one yet.
func Run(ctx context.Context, out io.Writer, archiveDir string) (*Result, error) {
	const password = "demo-password" // of two throwaway in-memory accounts
	src, err := startServer("alice", password)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := startServer("bob", password)
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	fmt.Fprintf(out, "started two in-memory IMAP servers: source %s (alice), destination %s (bob)\n", src.Addr, dst.Addr)

	res := &Result{Archive: archiveDir}
	c, err := imapclient.DialInsecure(src.Addr, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Login("alice", password).Wait(); err != nil {
		return nil, err
	}
	res.Seeded, err = fill(c)
	c.Logout().Wait()
	c.Close()
	if err != nil {
		return nil, fmt.Errorf("fill the source: %w", err)
	}
	fmt.Fprintf(out, "filled the source with %d messages from testdata (mbox folders with flags, and odd messages)\n", res.Seeded)

	pwFile := filepath.Join(archiveDir + ".password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(pwFile)
	dialer := func(url string) (*mailconn.Dialer, mailconn.Endpoint, error) {
		ep, err := mailconn.ParseEndpoint(url)
		if err != nil {
			return nil, ep, err
		}
		d, err := mailconn.NewDialer(ep, mailconn.Options{Password: mailconn.PasswordSource{File: pwFile}})
		return d, ep, err
	}

	a, err := archive.OpenOrCreate(archiveDir)
	if err != nil {
		return nil, err
	}
	sd, sep, err := dialer("imap://alice@" + src.Addr)
	if err != nil {
		return nil, err
	}
	res.Export, err = export.Run(ctx, a, export.NewIMAPSource(export.IMAPConfig{Endpoint: sep.String(), Dial: sd.Dial, DialRaw: sd.DialRaw}), export.Options{Account: "alice@source"})
	if err != nil {
		return res, fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(out, "exported %s into archive %s: %d folders, %d messages, snapshot %s\n",
		sep, archiveDir, res.Export.Folders, res.Export.Messages, res.Export.Snapshot.Short())

	snaps, _, err := a.Snapshots()
	if err != nil {
		return res, err
	}
	snap, err := archive.SelectSnapshot(snaps, "alice@source", "")
	if err != nil {
		return res, err
	}
	dd, dep, err := dialer("imap://bob@" + dst.Addr)
	if err != nil {
		return res, err
	}
	res.Manifest = importer.DefaultManifestPath(archiveDir, importer.Destination{Host: dep.Host, Port: dep.Port, User: dep.User})
	m, err := importer.OpenManifest(res.Manifest)
	if err != nil {
		return res, err
	}
	defer m.Close()
	opts := importer.IMAPOptions{Dial: dd.Dial, DialAppender: dd.DialAppender, Destination: dep.String(), Snapshot: snap, Manifest: m}
	if res.Import, err = importer.ImportIMAP(ctx, a, opts); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	fmt.Fprintf(out, "imported the snapshot into %s: %d messages appended, %d folders created\n", dep, res.Import.Appended, len(res.Import.Created))
	if res.Verify, err = importer.VerifyIMAP(ctx, a, importer.VerifyOptions{Dial: dd.Dial, Destination: dep.String(), Manifest: m}); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	for _, f := range res.Verify.Folders {
		status := "ok"
		if n := len(f.Missing) + len(f.Extra) + len(f.Changed); n > 0 {
			status = fmt.Sprintf("%d DIFFERENCES", n)
		}
		fmt.Fprintf(out, "  verify %-16s %3d of %3d messages identical: %s\n", f.Folder, f.Verified, f.Expected, status)
	}
	if !res.Verify.OK() {
		return res, fmt.Errorf("verify: the destination differs from the snapshot")
	}
	fmt.Fprintf(out, "verified: the destination serves every message with the SHA-256 of the bytes sent, its flags and date\n")
	return res, nil
}
