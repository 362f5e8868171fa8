// Command mailferry moves mailboxes between mail servers in two offline
// phases: export into an archive, import from it. This package only wires
// command-line flags to the export, archive and importer packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// defaultMemoryLimit is the Go heap's soft limit unless GOMEMLIMIT says
// otherwise: an export streams, so a bigger heap only delays collection.
const defaultMemoryLimit = 80 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if path := os.Getenv("MAILFERRY_CPUPROFILE"); path != "" {
		// For performance work: a CPU profile of the whole run.
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if path := os.Getenv("MAILFERRY_MEMPROFILE"); path != "" {
		// For performance work: where the run allocated (go tool pprof
		// -sample_index=alloc_space).
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if path := os.Getenv("MAILFERRY_TRACE"); path != "" {
		// For performance work: an execution trace (go tool trace).
		if f, err := os.Create(path); err == nil {
			trace.Start(f)
			defer trace.Stop()
		}
	}
	app := newApp()
	// Ctrl-C and SIGTERM cancel the command's context, so a long export
	// stops cleanly with its progress kept; a second Ctrl-C kills.
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel(errStopped)
		<-sig
		os.Exit(130)
	}()
	if err := run(ctx, app, os.Args); err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "mailferry:", msg)
		}
		os.Exit(exitCodeOf(err))
	}
}

// exitStatusUsage is the exit status of a command line mailferry cannot
// run: an unknown or malformed flag, a required one missing.
const exitStatusUsage = 2

// exitCodeOf is the exit status for the error a command returned.
func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	if ec, ok := err.(cli.ExitCoder); ok {
		return ec.ExitCode()
	}
	// Interrupted (Ctrl-C, SIGTERM), whatever the command.
	if errors.Is(err, errStopped) {
		return 130
	}
	// urfave/cli reports a missing required flag with an error of its
	// own, unexported type.
	if strings.HasPrefix(err.Error(), "Required flag") {
		return exitStatusUsage
	}
	return 1
}

// usageErrors makes flag errors of cmds (and their subcommands) exit with
// exitStatusUsage.
func usageErrors(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.OnUsageError = flagUsageError(c.Flags)
		usageErrors(c.Subcommands)
	}
	return cmds
}

// logCloser closes the --log-file after the command.
var logCloser io.Closer

func newApp() *cli.App {
	// --version only: -v is --verbose.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, the revision it was built from and the archive format"}
	flags := []cli.Flag{
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log debug detail to stderr"},
		logFileFlag,
	}
	return &cli.App{
		Name:  "mailferry",
		Usage: "move mailboxes between mail servers through a verified archive",
		Description: "mailferry export reads mailboxes (IMAP, POP3, Maildir, mbox) into a compressed,\n" +
			"content-addressed archive that keeps every message byte for byte with its flags and\n" +
			"dates; mailferry import replays an archive into an IMAP server exactly once.",
		Flags: flags,
		Before: func(c *cli.Context) error {
			closer, err := setUpLogging(c, os.Stderr)
			if err == nil {
				logCloser = closer
			}
			return err
		},
		After: func(*cli.Context) error {
			if logCloser != nil {
				logCloser.Close()
			}
			return nil
		},
		Commands: usageErrors([]*cli.Command{
			exportCommand(),
			importCommand(),
			verifyCommand(),
			authCommand(),
			completionCommand(),
			manCommand(),
			demoCommand(),
			archiveCommand(),
			versionCommand(),
		}),
		OnUsageError:         flagUsageError(append(flags, cli.VersionFlag)),
		EnableBashCompletion: true,
		Version:              versionLine(),
		// main decides the exit status; urfave/cli would call os.Exit itself.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}
