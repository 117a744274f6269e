package main

import (
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tests := []struct {
		in   string
		end  bool
		want time.Time // zero with ok false: an error
		ok   bool
	}{
		{"", false, time.Time{}, true},
		{"24h", false, now.Add(-24 * time.Hour), true},
		{"-24h", false, now.Add(-24 * time.Hour), true},
		{"90m", true, now.Add(-90 * time.Minute), true},
		{"7d", false, now.AddDate(0, 0, -7), true},
		{"2w", false, now.AddDate(0, 0, -14), true},
		{"0d", false, now, true},
		{"2026-07-01", false, time.Date(2026, 7, 1, 0, 0, 0, 0, berlin), true},
		{"2026-07-15", true, time.Date(2026, 7, 16, 0, 0, 0, 0, berlin), true},
		{"2026-07-01T10:00:00Z", false, time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), true},
		{"2026-07-01T10:00:00+02:00", true, time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC), true},
		{"2026-07-01T10:00:00", false, time.Date(2026, 7, 1, 10, 0, 0, 0, berlin), true},
		{"2026-07-01 10:00", false, time.Date(2026, 7, 1, 10, 0, 0, 0, berlin), true},
		{"1.5d", false, time.Time{}, false},
		{"d", false, time.Time{}, false},
		{"-3w", false, now.AddDate(0, 0, -21), true},
		{"99999999d", false, time.Time{}, false},
		{"yesterday", false, time.Time{}, false},
		{"2026-13-01", false, time.Time{}, false},
		{"2026/07/01", false, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseWhen(tt.in, berlin, clock, tt.end)
			if (err == nil) != tt.ok {
				t.Fatalf("parseWhen(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if !got.Equal(tt.want) {
				t.Errorf("parseWhen(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
