package main

import (
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module version from the build info is used.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print mailferry's version and the archive format version it writes",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "mailferry %s\n", versionLine())
			return nil
		},
	}
}

// versionLine is what version and --version print: the module version, the
// VCS revision the binary was built from, and the archive format.
func versionLine() string {
	v := toolVersion()
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "+changes"
			}
			v += " (" + rev + ")"
		}
	}
	return fmt.Sprintf("%s, archive format %d", v, formatVersion())
}
