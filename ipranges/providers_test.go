package ipranges

import (
	"slices"
	"testing"
)

func TestProviders(t *testing.T) {
	got := Providers()
	for _, want := range []string{"amazon", "google", "microsoft"} {
		if !slices.Contains(got, want) {
			t.Errorf("Providers() = %v, lacks %s", got, want)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Providers() = %v: not sorted or not unique", got)
	}
}
