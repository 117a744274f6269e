package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailaudit/mailaudit/baseline"
	"github.com/mailaudit/mailaudit/logfile"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// inputFlags say how lines are read and parsed.
type inputFlags struct {
	year     int
	tz       string
	progress string
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.year, "year", 0, "`YEAR` of year-less syslog timestamps (default: inferred, Dec→Jan aware)")
	fs.StringVar(&f.tz, "tz", "", "`ZONE` of zone-less timestamps, e.g. Europe/Berlin (default: local time)")
	fs.StringVar(&f.progress, "progress", "auto", "progress on stderr, `WHEN`: auto (terminal only), always, never")
}

// validate rejects --year and --progress values that would otherwise be
// taken silently: a year no log was written in (--year 26, a typo for
// 2026, would date every event in antiquity), a --progress word that is
// none of the three.
func (f *inputFlags) validate() error {
	if f.year != 0 && (f.year < 1970 || f.year > 9999) {
		return usagef("--year must be a year from 1970 to 9999, not %d", f.year)
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress must be auto, always or never, not %q", f.progress)
	}
	return nil
}

func (f *inputFlags) location() (*time.Location, error) {
	if f.tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return nil, usagef("--tz: %v", err)
	}
	return loc, nil
}

// ruleFlags configure the rules engine.
type ruleFlags struct {
	config   string
	allow    string
	stateDir string
	baseline string
	cfg      *rules.Config // loaded once by loadConfig
	db       *baseline.DB  // the learned baseline, when --baseline is state
	eng      *rules.Engine // the engine whose attack state db keeps
	// settings are the config file's tables that are not rules (alerts,
	// metrics), loaded with cfg.
	settings fileSettings
}

// rulesStateName names the rules' attack state in the baseline database.
const rulesStateName = "rules"

// saveState stores the engine's attack state (windows, waiting failures,
// campaigns, accused sources) with the baseline, for the next run.
func (f *ruleFlags) saveState() error {
	if f.db == nil || f.eng == nil {
		return nil
	}
	// Gzipped as it is written: under a flood the state is tens of MB
	// of JSON (bounded by max_sources) that compresses about tenfold.
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		return err
	}
	if err := f.eng.WriteState(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.db.SaveState(rulesStateName, rules.StateVersion, b.Bytes())
}

// readRulesState restores the engine's attack state from data, gzipped
// (saveState) or plain JSON (earlier versions).
func readRulesState(eng *rules.Engine, data []byte) error {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return eng.UnmarshalState(data)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("rules state: %w", err)
	}
	if err := eng.ReadState(zr); err != nil {
		return err
	}
	if err := zr.Close(); err != nil {
		return fmt.Errorf("rules state: %w", err)
	}
	return nil
}

func (f *ruleFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config `FILE` (TOML): rule thresholds, windows, severities, alerts, metrics (default: /etc/mailaudit/mailaudit.toml when present; for other users than root $XDG_CONFIG_HOME/mailaudit/mailaudit.toml first)")
	fs.StringVar(&f.allow, "allow", "", "allowlist `FILE`: addresses, CIDRs, per-user and provider entries")
	fs.StringVar(&f.stateDir, "state-dir", "", "`DIR` of the learned baseline (default: $XDG_STATE_HOME/mailaudit, ~/.local/state/mailaudit, /var/lib/mailaudit as root)")
	fs.StringVar(&f.baseline, "baseline", "auto", "known devices per user, `MODE`: memory (this run only), state (learned across runs, in --state-dir), or auto (state with --state or --follow, else memory)")
}

// loadConfig returns the rules config of --config (or of the default
// config file, when there is one), or the defaults; it reads the file once
// and keeps its other tables in f.settings.
func (f *ruleFlags) loadConfig() (rules.Config, error) {
	if f.cfg == nil {
		cfg := rules.DefaultConfig()
		if f.config == "" {
			p, err := defaultConfigFile()
			if err != nil {
				return cfg, err
			}
			f.config = p
		}
		if f.config != "" {
			file, err := os.Open(f.config)
			if err != nil {
				return cfg, err
			}
			cfg, err = rules.ParseConfigExtra(file, f.config, &f.settings)
			file.Close()
			if err != nil {
				return cfg, err
			}
		}
		f.cfg = &cfg
	}
	return *f.cfg, nil
}

// loginFormat returns the config's declared Dovecot
// login_log_format_elements ([parse] login_log_format_elements), or nil
// when it declares none.
func (f *ruleFlags) loginFormat() (*parse.LoginFormat, error) {
	if _, err := f.loadConfig(); err != nil {
		return nil, err
	}
	v := f.settings.Parse.LoginLogFormatElements
	if v == "" {
		return nil, nil
	}
	lf, err := parse.ParseLoginFormat(v)
	if err != nil {
		return nil, fmt.Errorf("%s: [parse] %w", f.config, err)
	}
	return lf, nil
}

// engine builds the rules engine; close releases the baseline database.
// persistent says whether the run is a recurring one (--state, --follow),
// which is where the auto baseline learns across runs. providers are those
// the allowlist may name (the classifier's, user lists included).
func (f *ruleFlags) engine(persistent bool, providers []string) (eng *rules.Engine, close func() error, err error) {
	cfg, err := f.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	var opts rules.Options
	if f.allow != "" {
		if opts.Allow, err = rules.LoadAllowlist(f.allow, providers...); err != nil {
			return nil, nil, err
		}
	}
	close = func() error { return nil }
	mode := f.baseline
	if mode == "auto" {
		mode = "memory"
		if persistent {
			mode = "state"
		}
	}
	switch mode {
	case "memory":
	case "state":
		dir, err := stateDir(f.stateDir)
		if err != nil {
			return nil, nil, err
		}
		db, err := baseline.Open(filepath.Join(dir, "baseline.db"))
		if err != nil {
			return nil, nil, err
		}
		// The attack state goes on across runs: failures still waiting
		// for attribution wait into the next run.
		opts.Baseline, opts.KeepPending, f.db = db, true, db
		eng := rules.NewEngine(cfg, opts)
		data, ver, err := db.LoadState(rulesStateName)
		if err == nil && data != nil {
			if ver != rules.StateVersion {
				err = fmt.Errorf("%s: rules state of version %d, this mailaudit reads %d (move the file away to start afresh)", db.Path(), ver, rules.StateVersion)
			} else if uerr := readRulesState(eng, data); uerr != nil {
				err = fmt.Errorf("%s: %w (move the file away to start afresh)", db.Path(), uerr)
			}
		}
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		f.eng = eng
		close = func() error { return errors.Join(f.saveState(), db.Close()) }
		return eng, close, nil
	default:
		return nil, nil, usagef("--baseline must be auto, memory or state, not %q", f.baseline)
	}
	return rules.NewEngine(cfg, opts), close, nil
}

// scanOptions are scan's flags.
type scanOptions struct {
	alert    alertFlags
	input    inputFlags
	rules    ruleFlags
	ranges   rangeFlags
	filter   filterFlags
	width    widthFlag
	format   string
	table    string
	events   bool
	follow   bool
	fromHead bool
	interval time.Duration
	state    string
}

func newScanCmd(e *env) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan [flags] FILE…",
		Short: "Audit who logs in from where, in Dovecot/Postfix logs",
		Long: `scan reads Dovecot and Postfix logs (plain, rotated, gzip — detected by
content —, "-" for stdin, journald JSON) and reports, per user, the
addresses they logged in from, which of those are cloud intermediaries
(new Outlook, Outlook mobile, …), failures per address, malformed lines and
the findings of the anomaly rules.

  mailaudit scan /var/log/mail.log*
  journalctl -u dovecot -u postfix -o json | mailaudit scan -
  mailaudit scan --events --format jsonl /var/log/mail.log   # one JSON event per login line
  mailaudit scan --follow /var/log/mail.log                  # live, through rotation
  mailaudit scan --state /var/lib/mailaudit/scan.state /var/log/mail.log   # cron: only what is new
  mailaudit scan --user alice@example.org --since 2026-07-01 --until 2026-07-15 /var/log/mail.log*
  mailaudit scan --format csv /var/log/mail.log > findings.csv            # --table logins for the logins
  mailaudit scan --format html /var/log/mail.log > day.html                # a page with charts, for mail
` + exitHelp,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !o.follow {
				// Follow-only flags would be ignored: say so.
				for _, name := range []string{"from-start", "interval"} {
					if cmd.Flags().Changed(name) {
						return usagef("--%s only works with --follow", name)
					}
				}
			}
			if o.interval <= 0 {
				return usagef("--interval must be positive, not %v", o.interval)
			}
			return runScan(cmd, e, &o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "table", formatHelp(scanFormats...)+"; csv and jsonl print the findings unless --table names another table")
	fs.StringVar(&o.table, "table", "", "print only `TABLE`: "+strings.Join(report.ScanTables(), ", ")+" (table, csv, jsonl; default: all for table, findings for csv and jsonl)")
	o.width.register(fs)
	fs.BoolVar(&o.events, "events", false, "print one record per login/auth event instead of the summary")
	fs.BoolVarP(&o.follow, "follow", "f", false, "keep reading FILE as it grows, through log rotation, until interrupted: as a table, one line per event and finding; otherwise findings (or --events) as they happen")
	fs.BoolVar(&o.fromHead, "from-start", false, "with --follow: read the file from its start instead of its end (--state continues from the saved position)")
	fs.DurationVar(&o.interval, "interval", 250*time.Millisecond, "with --follow: how often to look for new lines, a `DURATION`")
	fs.StringVar(&o.state, "state", "", "resume from and save positions in state `FILE` (cron/systemd timers; with --follow: where a restarted service continues)")
	o.input.register(fs)
	o.rules.register(fs)
	o.ranges.register(fs)
	o.filter.register(fs)
	o.alert.register(fs)
	return cmd
}

// scanFormats are the formats scan writes.
var scanFormats = []report.Format{report.Table, report.JSON, report.JSONL, report.CSV, report.HTML}

func runScan(cmd *cobra.Command, e *env, o *scanOptions, args []string) (err error) {
	ctx := cmd.Context()
	f, err := parseFormat(o.format, scanFormats...)
	if err != nil {
		return err
	}
	history := o.filter.user != ""
	if o.table != "" {
		o.table = strings.ToLower(o.table)
		switch {
		case !slices.Contains(report.ScanTables(), o.table):
			return usagef("--table must be one of %s, not %q", strings.Join(report.ScanTables(), ", "), o.table)
		case f == report.JSON || f == report.HTML:
			return usagef("--table does not apply to --format %s, which holds every table", f)
		case o.events || history || o.follow:
			return usagef("--table does not apply to --events, --user or --follow, which print events")
		}
	}
	if f == report.HTML && (o.events || history || o.follow) {
		return usagef("--format html is a page for a whole run: not with --events, --user or --follow")
	}
	if o.follow && (len(args) != 1 || args[0] == "-") {
		return usagef("--follow takes exactly one FILE (not stdin)")
	}
	p, done, err := newPipeline(e, &o.input, &o.rules, &o.ranges, &o.filter, o.follow || o.state != "", o.follow || o.state == "" || !overlapping(args))
	if err != nil {
		return err
	}
	// Closing saves what the baseline learned: its error counts.
	defer func() { err = errors.Join(err, done()) }()
	if o.events && !o.follow && o.state == "" && o.rules.db == nil && p.users == nil {
		// A one-off --events run prints the events only: no summary, no
		// findings (output stops at the events), nothing learned.
		p.rules, p.noSummary = nil, true
	}
	if _, err := o.rules.loadConfig(); err != nil {
		return err
	}
	a, err := newAlerts(cmd, e, &o.alert, o.rules.settings, o.state, o.follow)
	if err != nil {
		return err
	}
	p.setAlerts(ctx, a)
	defer func() { err = errors.Join(err, a.finish()) }()

	bw := bufio.NewWriterSize(e.stdout, 64<<10)
	defer bw.Flush()
	out, err := o.width.page(e, bw)
	if err != nil {
		return err
	}
	p.table = o.table
	if o.events || history {
		if p.events, err = report.NewEventWriter(out, f); err != nil {
			return usageError{err}
		}
		if history && !o.follow { // followed events already come in time order
			p.events = newSortedEvents(p.events)
		}
	}

	var runErr error
	switch {
	case o.follow:
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		p.ctx = ctx
		defer a.tick(ctx)()
		switch {
		case f == report.Table:
			// A person watching: every login and every finding, one
			// line each, as they happen.
			lw := report.NewLiveWriter(out)
			p.events, p.live = lw, lw.Findings()
		case !o.events:
			if p.live, err = report.NewFindingWriter(out, f); err != nil {
				return usageError{err}
			}
		}
		var synced time.Time
		p.flush = func() error {
			if p.events != nil {
				if err := p.events.Flush(); err != nil {
					return err
				}
			}
			// A long-running follower saves what the baseline learned
			// now and then, not only when it stops.
			if time.Since(synced) > time.Minute {
				synced = time.Now()
				if db := o.rules.db; db != nil {
					if err := errors.Join(db.Sync(), o.rules.saveState()); err != nil {
						return err
					}
				}
				if err := p.saveUsers(); err != nil {
					return err
				}
			}
			return bw.Flush()
		}
		if _, err := os.Stat(args[0]); errors.Is(err, fs.ErrNotExist) {
			// Waiting is right for a log being rotated in, but a typo
			// in the path must not look like a quiet server.
			fmt.Fprintf(e.stderr, "mailaudit: warning: %s does not exist (yet): waiting for it to appear\n", args[0])
		}
		runErr = p.follow(ctx, args[0], o.fromHead, o.interval, o.state)
		if p.eng != nil && o.rules.db == nil && p.live != nil {
			// Nothing carries the failures still waiting for attribution
			// to a next run: judge them now, as a whole scan would.
			for _, fd := range p.eng.Drain() {
				if err := p.live.Write(fd); err != nil {
					return err
				}
			}
		}
		if p.live != nil {
			if err := p.live.Close(); err != nil {
				return err
			}
		}
		if p.events != nil {
			if err := p.events.Close(); err != nil {
				return err
			}
		}
		return errors.Join(runErr, bw.Flush())
	case o.state != "":
		runErr = p.scanState(o.state, args, func() error { return p.output(out, bw, f) })
	default:
		runErr = p.scanFiles(args, e.stdin)
		if err := p.output(out, bw, f); err != nil {
			return err
		}
	}
	return runErr
}

// output writes what a whole run found: the events (when they were
// asked for) or the summary with the findings.
func (p *pipeline) output(out io.Writer, bw *bufio.Writer, f report.Format) error {
	p.prog.finish()
	if p.events != nil {
		if err := p.events.Close(); err != nil {
			return err
		}
		return bw.Flush()
	}
	found := p.rules.Flush()
	var err error
	if p.table != "" {
		err = report.WriteScanTable(out, f, p.table, p.sum, found)
	} else {
		err = report.WriteScan(out, f, p.sum, found)
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if n := p.sum.FailuresNotTracked(); n > 0 {
		fmt.Fprintf(p.stderr, "mailaudit: %d failing addresses not tracked in the failures table: more than %d at once; those with the fewest failures were dropped (the totals count them)\n", n, report.FailureAddressLimit)
	}
	p.alert.findings(p.ctx, found)
	return nil
}

// newPipeline builds the pipeline shared by scan, check and report from
// their flags; done releases what it opened. A nil rf runs no rules
// (the reports print none). persistent runs (--state, --follow) learn the
// baseline across runs by default. ordered says the events come in time
// order (a followed log, one log and its rotated generations, or whole
// files, which scanFiles merges by time), so the rules get each at once;
// otherwise (several logs resumed with --state, which may overlap in
// time) a bounded buffer puts them in order first.
func newPipeline(e *env, in *inputFlags, rf *ruleFlags, rg *rangeFlags, ff *filterFlags, persistent, ordered bool) (*pipeline, func() error, error) {
	if err := in.validate(); err != nil {
		return nil, nil, err
	}
	loc, err := in.location()
	if err != nil {
		return nil, nil, err
	}
	keep, err := ff.keep(loc)
	if err != nil {
		return nil, nil, err
	}
	cls, err := rg.classifier()
	rg.printWarnings(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	if err := ff.checkProvider(cls.Providers()); err != nil {
		cls.Close()
		return nil, nil, err
	}
	if w := staleRangesWarning(cls.Sources(), time.Now(), rangesStaleAfter); w != "" {
		fmt.Fprintln(e.stderr, "mailaudit: warning:", w)
	}
	var eng *rules.Engine
	closeEng := func() error { return nil }
	if rf != nil {
		if eng, closeEng, err = rf.engine(persistent, cls.Providers()); err != nil {
			cls.Close()
			return nil, nil, err
		}
	}
	p := &pipeline{
		cls:    cls,
		eng:    eng,
		rules:  rulesFor(eng, !ordered),
		sum:    report.NewSummary(),
		keep:   keep,
		prog:   newProgress(e.stderr, in.progress),
		stderr: e.stderr,
	}
	p.parser.Year = in.year
	p.parser.Location = loc
	if rf != nil {
		if p.parser.LoginFormat, err = rf.loginFormat(); err != nil {
			closeEng()
			cls.Close()
			return nil, nil, err
		}
	}
	if rf != nil && persistent {
		// Recurring runs keep the last logins per user (report users).
		if dir, err := stateDir(rf.stateDir); err == nil {
			p.users, p.usersDir = report.NewUsers(), dir
		}
	}
	done := func() error {
		if eng != nil && eng.NotTracked() > 0 {
			fmt.Fprintf(e.stderr, "mailaudit: %d sources not tracked: more than max_sources (%d) at once; the rest were judged\n", eng.NotTracked(), rf.cfg.MaxSources)
		}
		return errors.Join(closeEng(), cls.Close())
	}
	return p, done, nil
}

// rulesFor returns what the pipeline feeds events to: nothing without an
// engine, the engine itself for live runs, else a Reorder around it.
func rulesFor(eng *rules.Engine, reorder bool) ruleRunner {
	switch {
	case eng == nil:
		return nil
	case reorder:
		return rules.NewReorder(eng, rules.DefaultReorderCapacity)
	}
	return eng
}

// overlapping reports whether paths name more than one log (apart from
// rotated generations of one log, which are read oldest first and so in
// time order): their events may overlap in time.
func overlapping(paths []string) bool {
	for _, p := range paths[min(1, len(paths)):] {
		if logfile.LogOf(p) != logfile.LogOf(paths[0]) {
			return true
		}
	}
	return false
}
