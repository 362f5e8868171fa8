package foldermap

import (
	"slices"
	"testing"

	"github.com/mailferry/mailferry/format"
)

func TestFoldersToCreate(t *testing.T) {
	tests := []struct {
		name string
		src  []format.Folder
		dst  Destination
		opts Options
		want []Creation
	}{
		{
			name: "Gmail to Dovecot: a \\Noselect parent created once, before its children",
			src: folders("/", "INBOX", `[Gmail]|\Noselect`, `[Gmail]/All Mail|\All`, `[Gmail]/Sent Mail|\Sent`,
				`[Gmail]/Starred|\Flagged`, "Label"),
			dst: dovecotDest("INBOX", `Sent|\Sent`),
			want: []Creation{{Name: "[Gmail]"}, {Name: "[Gmail]/All Mail", SpecialUse: `\All`},
				{Name: "[Gmail]/Starred"}, {Name: "Label"}},
		},
		{
			name: "a child listed before its special parent",
			src:  folders("/", "Archive/2020", "INBOX", `Archive|\Archive`),
			dst:  dovecotDest("INBOX"),
			want: []Creation{{Name: "Archive", SpecialUse: `\Archive`}, {Name: "Archive/2020"}},
		},
		{
			name: "two folders marked \\Sent are created apart, neither with the use",
			src:  folders("/", "INBOX", `Sent Items|\Sent`, `Sent|\Sent`),
			dst:  dovecotDest("INBOX"),
			want: []Creation{{Name: "Sent Items"}, {Name: "Sent"}},
		},
		{
			name: "folders a rule merges are created once",
			src:  folders("/", "INBOX", "Lists/go", "Lists/rust"),
			dst:  dovecotDest("INBOX"),
			opts: Options{Rules: mustRules(t, `^Lists/.*$=Lists/all`)},
			want: []Creation{{Name: "Lists"}, {Name: "Lists/all"}},
		},
		{
			name: "nothing to create",
			src:  folders("/", "INBOX", `Sent|\Sent`),
			dst:  dovecotDest("INBOX", `Sent|\Sent`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Map(tt.src, dovecotNS, tt.dst, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := ToCreate(ms); !slices.Equal(got, tt.want) {
				t.Errorf("ToCreate = %q, want %q", got, tt.want)
			}
		})
	}
}
