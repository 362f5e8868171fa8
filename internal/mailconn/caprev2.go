package mailconn

import "bytes"

// go-imap (v2 beta.8 and beta.9) sends folder names as UTF-8 to any server
// that announces IMAP4rev2, yet still decodes the names it receives as
// modified UTF-7, and never enables IMAP4rev2 (go-imap issue 610). A
// server of both revisions (Cyrus 3.8, Stalwart) speaks IMAP4rev1 until a
// client enables IMAP4rev2, and refuses such names ("Mailbox name is not
// valid mUTF-7"): every folder with a non-ASCII name failed. So where a
// CAPABILITY list offers IMAP4rev1 too, the guard renames IMAP4rev2 in it
// to an unknown capability of the same length before go-imap reads it, and
// the session stays IMAP4rev1 on both sides. A server of IMAP4rev2 alone
// is left as it is. The rewrite is in place, on the bytes go-imap is about
// to read: a list cut between two reads is rewritten when IMAP4rev1 came
// before IMAP4rev2 (as servers list them) and no read cut IMAP4rev2 itself.
var (
	capIMAP4rev1 = []byte("IMAP4REV1")
	capIMAP4rev2 = []byte("IMAP4REV2")
	capHidden    = []byte("X-MF-REV2") // as long as IMAP4rev2
)

// hideIMAP4rev2 rewrites seg, bytes of a response line whose start is head,
// in place; *rev1 says IMAP4rev1 was on the line before seg, and is set
// when seg has it.
func hideIMAP4rev2(head, seg []byte, rev1 *bool) {
	if !containsFold(head, []byte("CAPABILITY")) {
		return
	}
	if !*rev1 {
		*rev1 = containsFold(seg, capIMAP4rev1)
	}
	if !*rev1 {
		return
	}
	for i := 0; i+len(capIMAP4rev2) <= len(seg); i++ {
		if !bytes.EqualFold(seg[i:i+len(capIMAP4rev2)], capIMAP4rev2) {
			continue
		}
		end := i + len(capIMAP4rev2)
		if i > 0 && seg[i-1] != ' ' && seg[i-1] != '[' {
			continue
		}
		if end < len(seg) && seg[end] != ' ' && seg[end] != ']' && seg[end] != '\r' {
			continue
		}
		copy(seg[i:end], capHidden)
	}
}

// containsFold reports whether b holds sub, in any case (sub in upper case).
func containsFold(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
