package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistFlags moves flags written after a command's positional arguments in
// front of them: urfave/cli stops reading flags at the first argument, yet
// `mailferry archive ls DIR --json` is how people type it.
func hoistFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	cmds := app.Commands
	var cmd *cli.Command
	i := 1
	// Walk down to the innermost command named on the line.
	for ; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			out = append(out, a)
			name := strings.TrimLeft(a, "-")
			flags := app.Flags
			if cmd != nil {
				flags = cmd.Flags
			}
			if !strings.Contains(name, "=") && takesValue(flags, name) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		next := findCommand(cmds, a)
		if next == nil {
			break
		}
		cmd = next
		cmds = next.Subcommands
		out = append(out, a)
	}
	if cmd == nil {
		return args
	}
	var flags, positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue(cmd.Flags, name) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	out = append(out, flags...)
	return append(out, positional...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

func takesValue(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if tv, ok := f.(interface{ TakesValue() bool }); ok {
				return tv.TakesValue()
			}
			return true
		}
	}
	return false
}
