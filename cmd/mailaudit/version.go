package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at link time by packaging/deb.sh
// (-ldflags "-X main.version=1.2.3"); otherwise it comes from the module
// version go install recorded, or is "devel".
var version = ""

// versionString is what --version and `mailaudit version` print after
// "mailaudit ": the version, then the VCS revision and date when the binary
// was built from a git checkout.
func versionString() string {
	return versionFrom(version, debug.ReadBuildInfo)
}

func versionFrom(linked string, read func() (*debug.BuildInfo, bool)) string {
	v := linked
	bi, ok := read()
	if v == "" && ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	if !ok {
		return v
	}
	var rev, date string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var extra []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		extra = append(extra, rev)
	}
	if date != "" {
		extra = append(extra, date)
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, ", ") + ")"
	}
	return v
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (with the git revision and date it was built from)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(e.stdout, "mailaudit %s\n", versionString())
			return err
		},
	}
}
