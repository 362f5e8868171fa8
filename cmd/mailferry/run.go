package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// run runs the command line args (args[0] is the program): flags written
// after arguments hoisted, an unknown command refused as a usage error
// with the nearest name suggested.
func run(ctx context.Context, app *cli.App, args []string) error {
	if err := checkCommands(app.Commands, args[1:]); err != nil {
		return err
	}
	return app.RunContext(ctx, hoistFlags(app, args))
}

// checkCommands refuses a word where a command is expected that names
// none: urfave/cli would answer "No help topic" and exit 3, the status
// for messages not handled.
func checkCommands(cmds []*cli.Command, args []string) error {
	for len(args) > 0 && len(cmds) > 0 {
		a := args[0]
		if strings.HasPrefix(a, "-") || a == "help" || a == "h" {
			return nil
		}
		c := findCommand(cmds, a)
		if c == nil {
			msg := fmt.Sprintf("unknown command %q", a)
			if near := nearest(a, cmds); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			return cli.Exit(msg+"; mailferry --help lists the commands", exitStatusUsage)
		}
		cmds, args = c.Subcommands, args[1:]
	}
	return nil
}

// nearest returns the command name closest to a (edit distance at most 2),
// or "".
func nearest(a string, cmds []*cli.Command) string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Names()...)
	}
	return nearestName(a, names)
}

// nearestName returns the name closest to a (edit distance at most 2), or "".
func nearestName(a string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(a, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// flagUsageError makes a flag error a usage error (exit status 2) in one
// line, and names an unknown flag as it was typed, with the nearest of
// flags where one is close ("flag provided but not defined: -maxsiz" is
// Go's flag package speaking).
func flagUsageError(flags []cli.Flag) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		name, unknown := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
		if !unknown {
			return cli.Exit(err.Error(), exitStatusUsage)
		}
		name = strings.TrimPrefix(name, "-")
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		msg := "unknown flag " + dashed(name)
		if near := nearestName(name, names); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", dashed(near))
		}
		return cli.Exit(msg, exitStatusUsage)
	}
}

// dashed spells a flag name as it is typed: -v, --max-size.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// editDistance is the Levenshtein distance, with a swap of neighbours
// counted as one edit (exprot is one step from export).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
