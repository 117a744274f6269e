package main

import (
	"bufio"
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
)

// reportOptions are the flags of every `report` subcommand. Reports print
// no findings, so they take no rule flags.
type reportOptions struct {
	input  inputFlags
	ranges rangeFlags
	filter filterFlags
	width  widthFlag
	format string
}

// reportFormats are the formats the reports write.
var reportFormats = []report.Format{report.Table, report.JSON, report.JSONL, report.CSV, report.HTML}

// question is one `report` subcommand: the accumulator it feeds (nil when
// the scan summary is enough) and how it writes its answer.
type question struct {
	use, short, long string
	// setup returns the observer to feed (nil for none) and the writer of
	// the answer from the scan summary.
	setup func() (observe func(parse.Event, ipranges.Origin), write func(io.Writer, report.Format, *report.Summary) error)
}

func questions() []question {
	return []question{
		{
			use:   "mechanisms [flags] FILE…",
			short: "Who still uses basic authentication: SASL mechanisms per user and address",
			long: `mechanisms lists, per user and client address, the SASL mechanisms of the
successful logins (Dovecot login lines and Postfix SASL lines): password
mechanisms ("basic authentication": PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5,
SCRAM-*, NTLM, APOP, …) against OAuth tokens (XOAUTH2, OAUTHBEARER), with
first and last use, so you know whom a switch to OAuth-only would break.

  mailaudit report mechanisms /var/log/mail.log*
  mailaudit report mechanisms --format csv --since 720h /var/log/mail.log* > mechanisms.csv
`,
			setup: func() (func(parse.Event, ipranges.Origin), func(io.Writer, report.Format, *report.Summary) error) {
				m := report.NewMechanisms()
				return m.Add, func(w io.Writer, f report.Format, _ *report.Summary) error { return report.WriteMechanisms(w, f, m) }
			},
		},
		{
			use:   "insecure [flags] FILE…",
			short: "Cleartext logins: no TLS and not a secured (loopback/trusted) connection",
			long: `insecure lists the successful logins on connections without TLS that Dovecot
did not mark "secured" (loopback or login_trusted_networks), per user,
address and service, and which services accepted them. Lines that cannot
tell whether TLS was used (Postfix SASL lines) are not counted as
cleartext; the report says how many there were.

  mailaudit report insecure /var/log/mail.log*
  journalctl -u dovecot -o json | mailaudit report insecure --format json -
`,
			setup: func() (func(parse.Event, ipranges.Origin), func(io.Writer, report.Format, *report.Summary) error) {
				in := report.NewInsecure()
				return in.Add, func(w io.Writer, f report.Format, _ *report.Summary) error { return report.WriteInsecure(w, f, in) }
			},
		},
		{
			use:   "intermediaries [flags] FILE…",
			short: "Which users' mail lives in someone else's cloud (Exchange Online, Outlook mobile, …)",
			long: `intermediaries lists, per user and cloud intermediary (new Outlook /
Exchange Online, Outlook mobile, Gmail's fetcher, …), the successful logins
made by that service with the user's stored credentials, with first and
last seen, the addresses, countries and ASNs.

  mailaudit report intermediaries /var/log/mail.log*
  mailaudit report intermediaries --provider microsoft --format json /var/log/mail.log*
`,
			setup: func() (func(parse.Event, ipranges.Origin), func(io.Writer, report.Format, *report.Summary) error) {
				return nil, report.WriteIntermediaries
			},
		},
	}
}

func newReportCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report mechanisms|insecure|intermediaries|users [flags] FILE…",
		Short: "Answer one question about the logins: mechanisms, insecure, intermediaries, users",
		Long: `report answers one question an admin brings to the mail logs, read from the
same inputs as scan (plain, rotated, gzip, "-" for stdin, journald JSON):

  mechanisms      who still uses basic (password) authentication
  insecure        who logs in without TLS, and which services allow it
  intermediaries  whose mail a cloud service fetches with stored credentials
  users           when each user last logged in, by service; inactive accounts

Each prints tables by default, --format json, jsonl or csv for scripts, or
--format html for a self-contained page.
` + exitHelp,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("report needs a question: mechanisms, insecure, intermediaries or users")
			}
			return usagef("unknown report %q (want mechanisms, insecure, intermediaries or users)", args[0])
		},
	}
	for _, q := range questions() {
		var o reportOptions
		sub := &cobra.Command{
			Use:   q.use,
			Short: q.short,
			Long:  q.long + exitHelp,
			Args:  needFiles,
			RunE: func(_ *cobra.Command, args []string) error {
				return runReport(e, &o, q, args)
			},
		}
		fs := sub.Flags()
		fs.StringVar(&o.format, "format", "table", formatHelp(reportFormats...))
		o.width.register(fs)
		o.input.register(fs)
		o.ranges.register(fs)
		o.filter.register(fs)
		cmd.AddCommand(sub)
	}
	cmd.AddCommand(newReportUsersCmd(e))
	return cmd
}

// runReport reads every FILE through the shared pipeline and writes the
// answer, also when some inputs failed; then it returns the input error.
func runReport(e *env, o *reportOptions, q question, args []string) error {
	f, err := parseFormat(o.format, reportFormats...)
	if err != nil {
		return err
	}
	p, done, err := newPipeline(e, &o.input, nil, &o.ranges, &o.filter, false, true)
	if err != nil {
		return err
	}
	defer done()
	observe, write := q.setup()
	p.observe = observe
	runErr := p.scanFiles(args, e.stdin)
	if errors.Is(runErr, context.Canceled) {
		return runErr
	}
	p.prog.finish()
	bw := bufio.NewWriterSize(e.stdout, 64<<10)
	out, err := o.width.page(e, bw)
	if err != nil {
		return err
	}
	if err := write(out, f, p.sum); err != nil {
		return errors.Join(err, runErr)
	}
	if err := bw.Flush(); err != nil {
		return errors.Join(err, runErr)
	}
	return runErr
}
