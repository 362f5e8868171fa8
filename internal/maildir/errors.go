package maildir

import "errors"

// ErrNotMaildir means a directory lacks the cur/ and new/ of a Maildir.
var ErrNotMaildir = errors.New("not a Maildir (no cur/ and new/)")

// ErrFolderName is matched (errors.Is) by errors about a folder name that
// Maildir++ cannot hold, such as a level containing ".", its separator.
var ErrFolderName = errors.New("folder name cannot be stored in Maildir++")

// ErrTooManyKeywords means a folder's 26 keyword letters (a to z) are all in
// use by other keywords, so Deliver could not store one. Nothing was written;
// the caller may deliver again without the keyword.
var ErrTooManyKeywords = errors.New("Maildir folder has no keyword letter left (26 in use)")

// ErrFlag means a flag cannot be stored in a Maildir file name.
var ErrFlag = errors.New("flag cannot be stored in Maildir")
