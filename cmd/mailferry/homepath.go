package main

import (
	"os"
	"path/filepath"
	"strings"
)

// expandHome turns a leading ~ or ~/ into the home directory, as a shell
// would have: "maildir:~/Maildir" reaches mailferry with its ~ intact.
func expandHome(path string) string {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return path
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~"))
}
