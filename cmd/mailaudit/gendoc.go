//go:build gendoc

package main

// This file is built only by packaging/deb.sh
// (go run -tags gendoc ./cmd/mailaudit gendoc DIR), so cobra/doc and its
// man-page renderer stay out of the mailaudit binary.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() {
	hiddenCommands = append(hiddenCommands, func(e *env) *cobra.Command {
		return &cobra.Command{
			Use:    "gendoc DIR",
			Short:  "Write the man pages (DIR/man1) and the shell completions (DIR/completions)",
			Hidden: true,
			Args:   cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return gendoc(cmd.Root(), args[0])
			},
		}
	})
}

// gendoc writes one man page per command into dir/man1 and the bash, zsh
// and fish completion scripts into dir/completions. The page date is
// SOURCE_DATE_EPOCH when set (reproducible builds).
func gendoc(root *cobra.Command, dir string) error {
	date := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH: %v", err)
		}
		date = time.Unix(n, 0).UTC()
	}
	man := filepath.Join(dir, "man1")
	comp := filepath.Join(dir, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{
		Title:   "MAILAUDIT",
		Section: "1",
		Date:    &date,
		Source:  "mailaudit " + strings.Fields(versionString())[0],
		Manual:  "mailaudit manual",
	}
	if err := doc.GenManTree(root, hdr, man); err != nil {
		return err
	}
	for name, gen := range map[string]func(string) error{
		"mailaudit.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"_mailaudit":     root.GenZshCompletionFile,
		"mailaudit.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
	} {
		if err := gen(filepath.Join(comp, name)); err != nil {
			return err
		}
	}
	return nil
}
