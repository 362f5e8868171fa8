// Package mailferry holds the sample mail that `mailferry demo` serves. The
// tool itself is cmd/mailferry and the packages beside it.
package mailferry

import "embed"

// SampleMail is testdata's mbox folders and its odd messages (all but the
// 5 MB one), embedded so that the demo needs no files and no server.
//
//go:embed testdata/mbox testdata/corpus/0[1-6]*.eml testdata/corpus/0[89]*.eml testdata/corpus/1*.eml
var SampleMail embed.FS
