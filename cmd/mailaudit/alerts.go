package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/metrics"
	"github.com/mailaudit/mailaudit/notify"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// etcConfig is the system-wide config file, read when --config is not
// given (tests point it elsewhere).
var etcConfig = "/etc/mailaudit/mailaudit.toml"

// fileSettings are the config file's tables that are not rules. They
// apply to the recurring runs (--state, --follow: the services); a one-off
// scan notifies and writes metrics only when its flags say so, so that an
// admin looking at old logs does not alert anyone.
type fileSettings struct {
	Notify struct {
		Targets     []string `toml:"targets"`
		MinSeverity string   `toml:"min_severity"`
		SecretFile  string   `toml:"secret_file"`
		Sendmail    string   `toml:"sendmail"`
	} `toml:"notify"`
	Metrics struct {
		File string `toml:"file"`
	} `toml:"metrics"`
	// Parse declares how the server logs: login_log_format_elements is
	// Dovecot's value of that setting, when customised.
	Parse struct {
		LoginLogFormatElements string `toml:"login_log_format_elements"`
	} `toml:"parse"`
}

// defaultConfigFile returns the config file to read when --config is not
// given, or "" when there is none.
func defaultConfigFile() (string, error) {
	return defaultConfigFileFor(os.Geteuid(), os.Getenv, os.UserHomeDir)
}

// defaultConfigFileFor: root reads /etc/mailaudit/mailaudit.toml; other
// users their XDG config file first, then the system one.
func defaultConfigFileFor(euid int, getenv func(string) string, home func() (string, error)) (string, error) {
	var candidates []string
	if euid != 0 {
		if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
			candidates = append(candidates, filepath.Join(x, "mailaudit", "mailaudit.toml"))
		} else if h, err := home(); err == nil && h != "" {
			candidates = append(candidates, filepath.Join(h, ".config", "mailaudit", "mailaudit.toml"))
		}
	}
	candidates = append(candidates, etcConfig)
	for _, c := range candidates {
		_, err := os.Stat(c)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config: %w", err)
		}
	}
	return "", nil
}

// alertFlags are the flags of scan and check that tell people: where
// findings are notified and where metrics are written.
type alertFlags struct {
	targets     []string
	min         string
	secretFile  string
	sendmail    string
	metricsFile string
}

func (f *alertFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.targets, "notify", nil, "send new findings to `TARGET`: an http(s):// webhook (one JSON POST per finding) or mailto:ADDR (one mail per run through sendmail -t); repeatable; with --state or --follow each finding is sent once")
	fs.StringVar(&f.min, "notify-min", "high", "notify findings of `SEVERITY` or worse: info, low, medium, high, critical")
	fs.StringVar(&f.secretFile, "notify-secret-file", "", "sign webhook bodies with the trimmed content of `FILE` (header X-Mailaudit-Signature: sha256=<hex HMAC-SHA256>)")
	fs.StringVar(&f.sendmail, "sendmail", notify.DefaultSendmail, "the sendmail `PATH` mailto: targets go through")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus metrics to `FILE` atomically (node_exporter textfile collector); rewritten every 15s with --follow")
}

// rangesStaleAfter is the age of the newest Microsoft range data past which
// a run warns.
var rangesStaleAfter = 90 * 24 * time.Hour

// metricsEvery is how often --follow rewrites the metrics file.
const metricsEvery = 15 * time.Second

// alerts notifies findings and counts what a run saw for the metrics.
// Its methods may be called on a nil *alerts (nothing asked for).
type alerts struct {
	notifier *notify.Notifier
	min      rules.Severity
	met      *runMetrics
	stderr   io.Writer
	// failed collects delivery errors: the run exits 3.
	failed []error
}

// deliveryError is a notification that could not be delivered: the run
// exits 3 (the delivery is retried by the next run with --state).
type deliveryError struct{ err error }

func (d deliveryError) Error() string { return d.err.Error() }
func (d deliveryError) Unwrap() error { return d.err }

// newAlerts builds what the flags and, for recurring runs (statePath set,
// or follow), the config file ask for; nil when nothing is asked.
// statePath names the --state file next to which the notified-once memory
// and the metrics counters are kept.
func newAlerts(cmd *cobra.Command, e *env, f *alertFlags, st fileSettings, statePath string, follow bool) (*alerts, error) {
	recurring := statePath != "" || follow
	changed := func(name string) bool { return cmd.Flags().Changed(name) }
	targets, min, secretFile, sendmail, metricsFile := f.targets, f.min, f.secretFile, f.sendmail, f.metricsFile
	if recurring {
		n := st.Notify
		if !changed("notify") {
			targets = n.Targets
		}
		if !changed("notify-min") && n.MinSeverity != "" {
			min = n.MinSeverity
		}
		if !changed("notify-secret-file") && n.SecretFile != "" {
			secretFile = n.SecretFile
		}
		if !changed("sendmail") && n.Sendmail != "" {
			sendmail = n.Sendmail
		}
		if !changed("metrics-file") && st.Metrics.File != "" {
			metricsFile = st.Metrics.File
		}
	}
	sev, err := rules.ParseSeverity(min)
	if err != nil {
		return nil, usagef("--notify-min: %v", err)
	}
	if len(targets) == 0 {
		for _, name := range []string{"notify-min", "notify-secret-file", "sendmail"} {
			if changed(name) {
				return nil, usagef("--%s needs --notify TARGET", name)
			}
		}
	}
	a := &alerts{min: sev, stderr: e.stderr}
	if len(targets) > 0 {
		var ts []notify.Target
		for _, t := range targets {
			tg, err := notify.ParseTarget(t)
			if err != nil {
				return nil, usageError{err}
			}
			ts = append(ts, tg)
		}
		opts := notify.Options{Sendmail: sendmail, UserAgent: "mailaudit/" + strings.Fields(versionString())[0]}
		opts.Host, _ = os.Hostname()
		if secretFile != "" {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return nil, fmt.Errorf("--notify-secret-file: %w", err)
			}
			if opts.Secret = []byte(strings.TrimSpace(string(b))); len(opts.Secret) == 0 {
				return nil, fmt.Errorf("--notify-secret-file %s is empty", secretFile)
			}
		}
		mem := notify.NewMemory("")
		if statePath != "" {
			if mem, err = notify.LoadMemory(statePath + ".notify.json"); err != nil {
				return nil, err
			}
		}
		a.notifier = notify.New(ts, opts, mem)
	}
	if metricsFile != "" {
		counters := ""
		if statePath != "" {
			counters = statePath + ".metrics.json"
		}
		if a.met, err = newRunMetrics(metricsFile, counters); err != nil {
			return nil, err
		}
	}
	if a.notifier == nil && a.met == nil {
		return nil, nil
	}
	return a, nil
}

// findings records fs in the metrics and notifies those at or above the
// threshold; a delivery that fails is reported on stderr at once and makes
// the run exit 3 (see err).
func (a *alerts) findings(ctx context.Context, fs []rules.Finding) {
	if a == nil {
		return
	}
	if a.met != nil {
		a.met.findings(fs)
	}
	if a.notifier == nil {
		return
	}
	var items []notify.Item
	for _, f := range fs {
		if f.Severity >= a.min {
			items = append(items, findingItem(f))
		}
	}
	if len(items) == 0 && a.notifier.Pending() == 0 {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// A stop (SIGTERM to a follower) lets the delivery under way finish,
	// within its own timeouts, rather than leave it half done.
	if err := a.notifier.Send(context.WithoutCancel(ctx), items); err != nil {
		fmt.Fprintln(a.stderr, "mailaudit:", err)
		a.failed = append(a.failed, err)
	}
}

// err is what the alerts make the run return.
func (a *alerts) err() error {
	if a == nil || len(a.failed) == 0 {
		return nil
	}
	return deliveryError{errors.Join(a.failed...)}
}

// findingItem is a finding as notify delivers it: its JSON object (the
// findings contract, as --format jsonl prints it), a key that stays the
// same when a resumed run meets it again, and one sanitized line of text.
func findingItem(f rules.Finding) notify.Item {
	h := sha256.New()
	for _, s := range []string{f.Rule, strconv.FormatBool(f.HasUser), f.User, f.RemoteIP, strings.Join(f.Addresses, " "), f.First.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return notify.Item{
		Key:  hex.EncodeToString(h.Sum(nil)[:16]),
		Body: report.AppendFinding(nil, f),
		Text: findingText(f),
	}
}

// findingText is one line for a person: severity, rule, message, who,
// from where, when and the first evidence, sanitized.
func findingText(f rules.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s", f.Severity, f.Rule, f.Message)
	if f.HasUser {
		fmt.Fprintf(&b, " — user %q", f.User)
	}
	if f.RemoteIP != "" {
		fmt.Fprintf(&b, " — address %s", f.RemoteIP)
	}
	if !f.First.IsZero() {
		fmt.Fprintf(&b, " — %s", f.First.Format(time.RFC3339))
	}
	if len(f.Evidence) > 0 {
		fmt.Fprintf(&b, " — %s", f.Evidence[0])
	}
	return report.Sanitize(b.String())
}

// runMetrics counts what a run read and found for --metrics-file. Lines
// are counted with atomics and the rest under mu, so that --follow can
// write the file from a ticker while the pipeline runs.
type runMetrics struct {
	path, counters string
	start          time.Time
	lines          atomic.Int64
	malformed      atomic.Int64

	mu  sync.Mutex
	reg *metrics.Registry
	// base lines and malformed lines: the totals of the earlier runs.
	baseLines, baseMalformed float64
}

const (
	metLines     = "mailaudit_lines_read_total"
	metMalformed = "mailaudit_malformed_lines_total"
	metEvents    = "mailaudit_events_total"
	metFindings  = "mailaudit_findings_total"
	metLastRun   = "mailaudit_last_run_timestamp_seconds"
	metDuration  = "mailaudit_last_run_duration_seconds"
	metRangesAge = "mailaudit_ranges_age_seconds"
)

// newRunMetrics defines the metrics; with a counters path the counters
// continue from the totals saved by the earlier runs.
func newRunMetrics(path, counters string) (*runMetrics, error) {
	r := metrics.New()
	r.Define(metLines, metrics.Counter, "Log lines read.")
	r.Define(metMalformed, metrics.Counter, "Login-looking lines that could not be parsed.")
	r.Define(metEvents, metrics.Counter, "Login and authentication events, by kind, service, result and the origin's class and provider.", "kind", "service", "result", "class", "provider")
	r.Define(metFindings, metrics.Counter, "Findings of the anomaly rules, by rule and severity.", "rule", "severity")
	r.Define(metLastRun, metrics.Gauge, "When the last run ended (or, with --follow, when the file was last written), in Unix seconds.")
	r.Define(metDuration, metrics.Gauge, "How long the last run took (with --follow: so far), in seconds.")
	r.Define(metRangesAge, metrics.Gauge, "Age of each IP-range source in use: since it was downloaded, or since its publication date for built-in data.", "source")
	if counters != "" {
		if err := r.LoadCounters(counters); err != nil {
			return nil, err
		}
	}
	m := &runMetrics{path: path, counters: counters, start: time.Now(), reg: r}
	m.baseLines, m.baseMalformed = r.Value(metLines), r.Value(metMalformed)
	// Every family appears from the first write on, even at zero.
	r.Add(metLines, 0)
	r.Add(metMalformed, 0)
	return m, nil
}

func (m *runMetrics) event(ev parse.Event, o ipranges.Origin) {
	m.mu.Lock()
	m.reg.Add(metEvents, 1, ev.Kind.String(), ev.Service, ev.Result.String(), string(o.Class), o.Provider)
	m.mu.Unlock()
}

func (m *runMetrics) findings(fs []rules.Finding) {
	m.mu.Lock()
	for _, f := range fs {
		m.reg.Add(metFindings, 1, f.Rule, f.Severity.String())
	}
	m.mu.Unlock()
}

// ranges sets the age of each source the classifier uses.
func (m *runMetrics) ranges(srcs []ipranges.SourceInfo, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range srcs {
		if t, ok := sourceTime(s); ok {
			m.reg.Set(metRangesAge, now.Sub(t).Seconds(), s.Name)
		}
	}
}

// write rewrites the metrics file; final also saves the counters for the
// next run.
func (m *runMetrics) write(final bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	m.reg.Set(metLines, m.baseLines+float64(m.lines.Load()))
	m.reg.Set(metMalformed, m.baseMalformed+float64(m.malformed.Load()))
	m.reg.Set(metLastRun, float64(now.UnixMilli())/1000)
	m.reg.Set(metDuration, now.Sub(m.start).Seconds())
	if err := m.reg.WriteFile(m.path); err != nil {
		return err
	}
	if final && m.counters != "" {
		return m.reg.SaveCounters(m.counters)
	}
	return nil
}

// sourceTime is how old a source's data is: when it was downloaded, else
// the date its publisher gives (a Microsoft 365 version YYYYMMDDNN, a
// date, AWS's 2006-01-02-15-04-05, an RFC 3339-like time).
func sourceTime(s ipranges.SourceInfo) (time.Time, bool) {
	if !s.Fetched.IsZero() {
		return s.Fetched, true
	}
	d := s.Date
	if len(d) == 10 && strings.Trim(d, "0123456789") == "" {
		d = d[:8]
	}
	for _, layout := range []string{"20060102", time.DateOnly, "2006-01-02-15-04-05", "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, d); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// microsoftSources are the sources of Microsoft's ranges: the built-in
// table and the downloaded Microsoft 365 and Azure lists.
var microsoftSources = map[string]bool{"builtin": true, "o365": true, "azure": true}

// staleRangesWarning returns the warning to print when the newest
// Microsoft data in use is older than maxAge, or "".
func staleRangesWarning(srcs []ipranges.SourceInfo, now time.Time, maxAge time.Duration) string {
	var newest time.Time
	for _, s := range srcs {
		if !microsoftSources[s.Name] {
			continue
		}
		if t, ok := sourceTime(s); ok && t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() || now.Sub(newest) <= maxAge {
		return ""
	}
	return fmt.Sprintf("the newest Microsoft range data in use is from %s (%d days old): run `mailaudit ranges update` (as the user that runs mailaudit, or enable mailaudit-ranges-update.timer)",
		newest.UTC().Format(time.DateOnly), int(now.Sub(newest).Hours()/24))
}

// tick rewrites the metrics file every metricsEvery until ctx is done or
// the returned stop is called (--follow).
func (a *alerts) tick(ctx context.Context) (stop func()) {
	if a == nil || a.met == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(metricsEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failure shows in the last write, at the end.
				_ = a.met.write(false)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// finish writes the metrics file a last time and returns the delivery
// errors of the run.
func (a *alerts) finish() error {
	if a == nil {
		return nil
	}
	var err error
	if a.met != nil {
		err = a.met.write(true)
	}
	return errors.Join(a.err(), err)
}
