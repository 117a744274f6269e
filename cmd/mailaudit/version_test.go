package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-11-28T10:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	dirty := append(append([]debug.BuildSetting(nil), vcs[:3]...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	tests := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"no build info", "", nil, "devel"},
		{"linked, no build info", "1.2.3", nil, "1.2.3"},
		{"go run from a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"devel (0123456789ab, 2026-11-28T10:00:00Z)"},
		{"dirty checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty},
			"devel (0123456789ab-dirty, 2026-11-28T10:00:00Z)"},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{"package build", "0.3.0", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"0.3.0 (0123456789ab, 2026-11-28T10:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionFrom(tt.linked, func() (*debug.BuildInfo, bool) { return tt.bi, tt.bi != nil })
			if got != tt.want {
				t.Errorf("versionFrom = %q, want %q", got, tt.want)
			}
		})
	}
}
