package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// ruleMalformed names the finding check raises for a login-looking line it
// could not parse: it fails the check whatever --fail-on says.
const ruleMalformed = "malformed-login-line"

type checkOptions struct {
	alert  alertFlags
	input  inputFlags
	rules  ruleFlags
	ranges rangeFlags
	filter filterFlags
	width  widthFlag
	format string
	failOn string
	state  string
}

func newCheckCmd(e *env) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check --allow FILE [--fail-on RULES|SEVERITY] FILE…",
		Short: "Gate for CI and cron: fail on logins from unknown addresses",
		Long: `check reads the logs like scan and exits 1 when a finding at or above the
threshold exists. The default threshold is the rule not-allowlisted: a
successful login from an address outside the --allow list, reported with
user, address and file:line. --fail-on takes a severity (info, low, medium,
high, critical: that severity or worse fails) or a comma-separated list of
rule names and severities, in any case; anything else is a usage error.
A clean check exits 0 and, as a table, prints nothing (cron mails only
what found something).
A threshold that covers not-allowlisted needs --allow, and one that names a
rule the --config disables is a usage error: the gate must be able to fail.

When check reads several logs (a journald export and a log file, several
servers), they are read side by side and their events merged by time
before the rules see them.

check fails closed: a file it cannot read, a truncated .gz, a config or
allowlist it cannot load exit 3, and a login-looking line it cannot parse
fails the check (rule ` + ruleMalformed + `) whatever --fail-on says.

  mailaudit check --allow /etc/mailaudit/allow.txt /var/log/mail.log
  mailaudit check --allow allow.txt --fail-on high --format github mail.log
` + exitHelp,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("fail-on") && o.failOn == "" {
				// --fail-on "$RULES" with RULES unset must not fall
				// back to the default silently.
				return usagef("--fail-on is empty: give a severity or rule names")
			}
			return runCheck(cmd, e, &o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "table", formatHelp(checkFormats...)+"; github = Actions annotations")
	o.width.register(fs)
	fs.StringVar(&o.failOn, "fail-on", "", "fail on `RULES|SEVERITY`: a severity (info…critical) or comma-separated rule names (default: not-allowlisted)")
	fs.StringVar(&o.state, "state", "", "check only what was added since the last run (positions saved in state `FILE`)")
	o.input.register(fs)
	o.rules.register(fs)
	o.ranges.register(fs)
	o.filter.register(fs)
	o.alert.register(fs)
	return cmd
}

// checkFormats are the formats check writes.
var checkFormats = []report.Format{report.Table, report.JSON, report.JSONL, report.CSV, report.GitHub}

func runCheck(cmd *cobra.Command, e *env, o *checkOptions, args []string) (err error) {
	f, err := parseFormat(o.format, checkFormats...)
	if err != nil {
		return err
	}
	th := rules.DefaultThreshold()
	if o.failOn != "" {
		if th, err = rules.ParseThreshold(o.failOn); err != nil {
			return usagef("--fail-on: %v", err)
		}
	}
	// The gate must be able to fail: a rule it names must run.
	cfg, err := o.rules.loadConfig()
	if err != nil {
		return err
	}
	for _, r := range th.Rules() {
		if !cfg.Enabled(r) {
			return usagef("--fail-on names %s, which %s disables", r, o.rules.config)
		}
	}
	if o.rules.allow == "" && cfg.NotAllowlisted.Enabled && th.Matches(rules.Finding{Rule: rules.RuleNotAllowlisted, Severity: cfg.NotAllowlisted.Severity}) {
		if o.failOn == "" {
			return usagef("check needs --allow FILE: its default --fail-on, %s, fails on successful logins from outside the allowlist (or give a --fail-on without that rule)", rules.RuleNotAllowlisted)
		}
		return usagef("check needs --allow FILE for its threshold %s (which includes not-allowlisted), or a --fail-on without it", th)
	}
	p, done, err := newPipeline(e, &o.input, &o.rules, &o.ranges, &o.filter, o.state != "", o.state == "" || !overlapping(args))
	if err != nil {
		return err
	}
	// Closing saves what the baseline learned: its error counts.
	defer func() { err = errors.Join(err, done()) }()
	p.strict = true         // an input with no mail program's line fails closed
	p.sum.TotalsOnly = true // check prints findings only: no per-user tables
	a, err := newAlerts(cmd, e, &o.alert, o.rules.settings, o.state, false)
	if err != nil {
		return err
	}
	p.setAlerts(cmd.Context(), a)
	defer func() { err = errors.Join(err, a.finish()) }()
	bw := bufio.NewWriterSize(e.stdout, 64<<10)
	defer bw.Flush()
	out, err := o.width.page(e, bw)
	if err != nil {
		return err
	}
	var failing []rules.Finding
	output := func() error {
		p.prog.finish()
		failing = failing[:0]
		all := p.rules.Flush()
		for _, fd := range all {
			if th.Matches(fd) {
				failing = append(failing, fd)
			}
		}
		malformed := malformedFindings(p.sum)
		failing = append(failing, malformed...)
		// Notified after the output, before --state is saved: a run
		// killed in between notifies again (the memory stops repeats).
		defer p.alert.findings(p.ctx, append(all, malformed...))
		if f == report.Table && len(failing) == 0 {
			// A clean check prints nothing for a person (the exit
			// status says it): cron mails only runs that found
			// something. Scripts still get their empty document.
			return nil
		}
		if err := report.WriteFindings(out, f, failing); err != nil {
			return err
		}
		return bw.Flush()
	}
	var runErr error
	if o.state != "" {
		runErr = p.scanState(o.state, args, output)
	} else {
		runErr = p.scanFiles(args, e.stdin)
		if err := output(); err != nil {
			return err
		}
	}
	if err := p.eng.Err(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("baseline: %w", err))
	}
	if len(failing) > 0 {
		fmt.Fprintf(e.stderr, "mailaudit: check failed: %s\n", failedSummary(failing, th))
		return errors.Join(errFindings, runErr)
	}
	return runErr
}

// failedSummary says which rules failed the check, how often, and why
// they count, in findings: "2 not-allowlisted (at or above not-allowlisted), 1
// malformed-login-line (always fails: …)".
func failedSummary(failing []rules.Finding, th rules.Threshold) string {
	var names []string
	count := map[string]int{}
	for _, f := range failing {
		if count[f.Rule] == 0 {
			names = append(names, f.Rule)
		}
		count[f.Rule]++
	}
	parts := make([]string, len(names))
	for i, n := range names {
		why := "at or above " + th.String()
		if n == ruleMalformed {
			why = "always fails: a login-looking line that cannot be read, or an over-long line from a mail program; a customised Dovecot login_log_format_elements can cause it: declare it in the config as [parse] login_log_format_elements"
		}
		parts[i] = fmt.Sprintf("%d %s (%s)", count[n], n, why)
	}
	return strings.Join(parts, ", ")
}

// malformedFindings turns the malformed lines of a run into findings.
func malformedFindings(s *report.Summary) []rules.Finding {
	rows, total := s.Malformed()
	var out []rules.Finding
	for _, m := range rows {
		out = append(out, rules.Finding{
			Rule:     ruleMalformed,
			Severity: rules.High,
			Count:    1,
			Evidence: []string{fmt.Sprintf("%s:%d", m.File, m.Line)},
			Message:  fmt.Sprintf("%s line that looks like a login but cannot be parsed: %s", m.Program, m.Reason),
		})
	}
	if extra := int(total) - len(rows); extra > 0 {
		out = append(out, rules.Finding{
			Rule: ruleMalformed, Severity: rules.High, Count: extra,
			Message: fmt.Sprintf("%d more malformed login-looking lines not listed", extra),
		})
	}
	return out
}
