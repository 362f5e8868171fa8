// Package atomicfile writes a small file whole or not at all: a temporary
// file, synced, then renamed over the target, so that a reader or a crash
// never meets half of it. It is for reports, caches and Maildir's control
// files; the archive has its own content-addressed writes.
package atomicfile
