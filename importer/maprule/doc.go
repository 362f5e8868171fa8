// Package maprule reads the 'REGEX=REPLACEMENT' rules that --map renames
// folders with and --flag-map renames flags with, checking their group
// references up front. It applies no rule and knows nothing of folders or flags.
package maprule
