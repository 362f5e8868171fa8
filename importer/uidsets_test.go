package importer

import (
	"fmt"
	"testing"
)

func TestUIDSets(t *testing.T) {
	scattered := make([]uint32, 2500)
	for i := range scattered {
		scattered[i] = uint32(2*i + 1)
	}
	for _, tc := range []struct {
		name string
		uids []uint32
		want []string
	}{
		{"none", nil, nil},
		{"one", []uint32{7}, []string{"7"}},
		{"runs, unsorted, repeated", []uint32{9, 3, 4, 5, 5, 10, 1}, []string{"1,3:5,9:10"}},
		{"scattered over several sets", scattered, []string{fmt.Sprint(len(scattered[:maxRanges])), fmt.Sprint(maxRanges), fmt.Sprint(500)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sets := uidSets(tc.uids)
			if len(sets) != len(tc.want) {
				t.Fatalf("%d sets, want %d: %v", len(sets), len(tc.want), sets)
			}
			for i, s := range sets {
				got := s.String()
				if tc.name == "scattered over several sets" {
					got = fmt.Sprint(len(s))
				}
				if got != tc.want[i] {
					t.Errorf("set %d: %s, want %s", i, got, tc.want[i])
				}
			}
		})
	}
}
