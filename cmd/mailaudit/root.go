package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// env holds the process's streams so commands never touch os.Std* directly
// and tests can run them in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Main runs mailaudit with args and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return mainContext(context.Background(), args, stdin, stdout, stderr)
}

// mainContext is Main with a context: cancelling it stops --follow as
// SIGINT does.
func mainContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	if err != nil && code != exitFindings {
		fmt.Fprintln(stderr, "mailaudit:", err)
	}
	return code
}

// hiddenCommands are added to the root by files built with tags (the
// gendoc command of packaging/deb.sh).
var hiddenCommands []func(*env) *cobra.Command

const exitHelp = `
Exit status:
  0  ok
  1  findings at or above --fail-on (check)
  2  usage error
  3  an input, config or list could not be read (the rest was still processed)
`

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "mailaudit",
		Short: "Who logs in to your users' mailboxes, from where, and should you worry?",
		Long: `mailaudit reads Dovecot and Postfix logs and reports every login: the users'
own devices apart from cloud intermediaries (new Outlook, Outlook mobile,
Gmail's fetcher, …), hosting networks and private space, with anomaly rules
on top.
` + exitHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for \"mailaudit\" (see mailaudit --help)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmd.Help(); err != nil {
				return err
			}
			return usagef("no command given")
		},
	}
	root.Version = versionString()
	root.SetVersionTemplate("mailaudit {{.Version}}\n")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				// cobra's own help command prints the root help
				// and exits 0 for a topic it does not know.
				return usagef("unknown help topic %q (see mailaudit --help)", strings.Join(args, " "))
			}
			return cmd.Help()
		},
	})
	root.AddCommand(
		newScanCmd(e),
		newCheckCmd(e),
		newBaselineCmd(e),
		newRangesCmd(e),
		newReportCmd(e),
		newVersionCmd(e),
	)
	for _, h := range hiddenCommands {
		root.AddCommand(h(e))
	}
	registerCompletions(root)
	// Unknown subcommands and bad args are usage errors too.
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs turns cobra's positional-argument validation errors into usage
// errors (cobra does not route them through the flag error func).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		v := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := v(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// needSubcommand is the RunE of a command that only groups subcommands
// (ranges, baseline): run alone, or with a word that is none of its
// subcommands, it is a usage error (cobra would print the help and exit 0).
func needSubcommand(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	want := strings.Join(names, ", ")
	if len(args) == 0 {
		return usagef("%s needs a subcommand: %s", cmd.CommandPath(), want)
	}
	return usagef("unknown command %q for %q (want %s)", args[0], cmd.CommandPath(), want)
}

// needFiles is the Args check of the commands that read logs.
func needFiles(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		return usagef("%s needs at least one log FILE (\"-\" reads stdin)", name)
	}
	return nil
}
