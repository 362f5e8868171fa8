// Package foldermap decides the destination name of every source folder:
// prefix and delimiter translation, illegal names, clashes, --map rules,
// special use, and which folders to create. It does no I/O and sends nothing.
package foldermap
