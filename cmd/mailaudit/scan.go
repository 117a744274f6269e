package main

import (
	"github.com/spf13/cobra"
)

// newScanCmd is being written in this session (pipeline wiring).
func newScanCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "scan [flags] FILE…",
		Short: "Audit logins in Dovecot/Postfix logs",
		Args:  cobra.ArbitraryArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return nil },
	}
}
