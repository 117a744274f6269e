package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/logfile"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// lineSource is what the pipeline reads: a whole file, a resumed file
// (rotated generations first) or a followed file.
type lineSource interface {
	Next() ([]byte, error)
	// Name is the file the last line came from; LineNo its 1-based line.
	Name() string
	LineNo() int
	// Long counts the over-long lines skipped so far.
	Long() int
}

// fileSource reads one opened input from start to end.
type fileSource struct {
	in *logfile.Input
	lr *logfile.LineReader
}

func (s *fileSource) Next() ([]byte, error) { return s.lr.Next() }
func (s *fileSource) Name() string          { return displayName(s.in.Name()) }
func (s *fileSource) LineNo() int           { return s.lr.LineNo() }
func (s *fileSource) Long() int             { return s.lr.Long() }

// NextMatch passes over the lines no parser can make anything of.
func (s *fileSource) NextMatch() ([]byte, int, int64, error) { return s.lr.NextMatch(lineFilter) }

// matchSource is a lineSource that can pass over, unread, the lines
// lineFilter does not select: a whole read block is searched for the
// parser's markers at once instead of line by line.
type matchSource interface {
	// NextMatch is Next after the lines passed over: skipped of them,
	// with skippedBytes bytes.
	NextMatch() (line []byte, skipped int, skippedBytes int64, err error)
}

// lineFilter selects the lines Parse may make an event or a malformed
// record of: those with one of its markers, and journald JSON records.
var lineFilter = func() *logfile.Filter {
	f := &logfile.Filter{Starts: "{"}
	for _, m := range parse.Markers() {
		f.Markers = append(f.Markers, logfile.Marker{Text: m.Text, Anchor: m.Anchor})
	}
	return f
}()

// followSource adapts a Follower, whose Next waits, to lineSource. With
// save set it also saves the position now and then (see saveEvery),
// between lines, so a follower killed hard repeats little.
type followSource struct {
	ctx context.Context
	f   *logfile.Follower
	gap func(error) // told of lines found missing (a rotated file gone)

	save     func() error
	interval time.Duration // save this often while there is new output
	saved    time.Time     // when save last ran
	moved    bool          // lines were returned since
	output   bool          // and printed something
}

// saveEvery is how often a follower saves its position when lines came
// that printed nothing; with new output it saves every poll interval.
const saveEvery = time.Minute

// Next returns the next line. Every line returned before was fully
// handled by then, so a save here keeps delivery at least once.
func (s *followSource) Next() ([]byte, error) {
	for {
		if s.save != nil && s.moved && !time.Now().Before(s.due()) {
			if err := s.save(); err != nil {
				return nil, err
			}
			s.saved, s.moved, s.output = time.Now(), false, false
		}
		ctx, cancel := s.ctx, context.CancelFunc(func() {})
		if s.save != nil && s.moved {
			ctx, cancel = context.WithDeadline(s.ctx, s.due())
		}
		line, err := s.f.Next(ctx)
		cancel()
		if g := s.f.Gap(); g != nil && s.gap != nil {
			s.gap(g)
		}
		switch {
		case err == nil:
			s.moved = true
			return line, nil
		case errors.Is(err, context.DeadlineExceeded) && s.ctx.Err() == nil:
			continue // time to save
		}
		return nil, err
	}
}

// due returns when the next save is due.
func (s *followSource) due() time.Time {
	if s.output {
		return s.saved.Add(s.interval)
	}
	return s.saved.Add(saveEvery)
}

func (s *followSource) Name() string { return s.f.Name() }
func (s *followSource) LineNo() int  { return s.f.LineNo() }
func (s *followSource) Long() int    { return s.f.Long() }

// displayName names stdin in evidence and errors.
func displayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// ruleRunner is a rules.Engine or a rules.Reorder around one.
type ruleRunner interface {
	Observe(parse.Event, ipranges.Origin) []rules.Finding
	Flush() []rules.Finding
}

// pipeline is the one path every command's lines take: parse, classify,
// filter, summarise, run the rules, and (optionally) print events and
// findings as they happen.
type pipeline struct {
	parser parse.Parser
	cls    *ipranges.Classifier
	eng    *rules.Engine // nil runs no rules
	// rules is what the events go through: eng itself (follow mode, where
	// findings must come at once) or a Reorder around it that puts a
	// whole run's events in time order first.
	rules ruleRunner
	sum   *report.Summary
	keep  func(ev parse.Event, o ipranges.Origin) bool // nil keeps all
	// observe, when set, is given every kept event after the summary
	// (the `report` accumulators).
	observe func(ev parse.Event, o ipranges.Origin)

	// events, when set, receives every kept event (--events).
	events report.EventWriter
	// live, when set, receives each finding when it becomes certain
	// (--follow); flush is called after each line that printed something.
	live  report.FindingWriter
	flush func() error

	malformed int
	prog      *progress

	// in follows the input being read for the fail-closed checks; nil
	// when none is (a followed log).
	in *inputCheck
	// strict makes an input with no line from a mail program an input
	// error (check); otherwise it is a warning on stderr (scan, report).
	strict bool
	stderr io.Writer
	// table, when set, is the one table of a scan to print (--table).
	table string
	// users, when set, learns the last logins per user, saved to
	// usersDir after each recurring run (--state, --follow).
	users    *report.Users
	usersDir string

	// alert, when set, notifies findings and counts for --metrics-file;
	// ctx bounds its deliveries.
	alert *alerts
	ctx   context.Context

	// noSummary skips the summary's per-event work: a run that prints
	// events only.
	noSummary bool
}

// inputCheck is what the pipeline learns about one input beyond its
// events: how many lines it had and whether any came from a mail program.
type inputCheck struct {
	name  string
	lines int64
	mail  bool
}

// newInput starts the checks of the input called name.
func (p *pipeline) newInput(name string) *inputCheck {
	c := &inputCheck{name: name}
	p.in = c
	return c
}

// endInput finishes the checks of c: an input with lines but none from
// Dovecot or Postfix (the wrong file, a journal without those units, a
// Dovecot whose instance_name changed its syslog ident) would pass check
// silently, so it is an error for check and a warning otherwise.
func (p *pipeline) endInput(c *inputCheck) error {
	if p.in == c {
		p.in = nil
	}
	if c.lines == 0 || c.mail {
		return nil
	}
	err := fmt.Errorf("%s: no line from Dovecot or Postfix in %d lines: the wrong file, or a changed syslog ident (instance_name)? "+
		"For the journal: journalctl -u dovecot -u postfix -o json | mailaudit scan -", c.name, c.lines)
	if p.strict {
		return err
	}
	if p.stderr != nil {
		fmt.Fprintf(p.stderr, "mailaudit: warning: %v\n", err)
	}
	return nil
}

// longLine returns the LineReader.OnLong of a source read with parser: an
// over-long line skipped unread that a mail program logged is recorded as
// malformed (so it fails check), for it may hide a login.
func (p *pipeline) longLine(parser *parse.Parser, name func() string) func(int, []byte) {
	return func(line int, head []byte) {
		prog, ok := parser.MailProgram(head)
		if !ok {
			return
		}
		if p.in != nil {
			p.in.mail = true
		}
		if m := p.met(); m != nil {
			m.malformed.Add(1)
		}
		p.malformed++
		p.sum.AddMalformed(parse.Event{Program: prog, File: name(), Line: line,
			Reason: fmt.Sprintf("a line over %d KiB from a mail program was skipped unread", logfile.DefaultMax>>10)})
	}
}

// met returns the metrics counters, or nil.
func (p *pipeline) met() *runMetrics {
	if p.alert == nil {
		return nil
	}
	return p.alert.met
}

// setAlerts attaches a (nil: none) to p and gives its metrics the ages of
// the range sources.
func (p *pipeline) setAlerts(ctx context.Context, a *alerts) {
	p.alert, p.ctx = a, ctx
	if m := p.met(); m != nil {
		m.ranges(p.cls.Sources(), time.Now())
	}
}

// run feeds every line of src through the pipeline. Read errors are
// returned naming the file and the line where reading stopped.
func (p *pipeline) run(src lineSource) error {
	longBefore := src.Long()
	defer func() { p.sum.LongLines += int64(src.Long() - longBefore) }()
	for {
		ev, err := p.nextEvent(&p.parser, src)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.handle(ev); err != nil {
			return err
		}
	}
}

// nextEvent reads src up to its next event with parser, counting the
// lines it passes and recording the malformed ones. It returns io.EOF at
// the end, and read errors naming the file and the line.
func (p *pipeline) nextEvent(parser *parse.Parser, src lineSource) (parse.Event, error) {
	ms, _ := src.(matchSource)
	for {
		var line []byte
		var err error
		if ms != nil && (p.in == nil || p.in.mail) {
			// The lines passed over are counted; nothing else is
			// learnt from them once a mail program's line was seen.
			var n int
			var size int64
			line, n, size, err = ms.NextMatch()
			if n > 0 {
				p.passed(n, size)
			}
		} else {
			line, err = src.Next()
		}
		if err != nil {
			if err == io.EOF || errors.Is(err, context.Canceled) {
				return parse.Event{}, err
			}
			return parse.Event{}, readError(src, err)
		}
		p.sum.Lines++
		if m := p.met(); m != nil {
			m.lines.Add(1)
		}
		if p.prog != nil {
			p.prog.tick(1, int64(len(line)+1))
		}
		ev, st := parser.Parse(line)
		if c := p.in; c != nil {
			c.lines++
			if !c.mail {
				_, c.mail = parser.MailProgram(line)
				c.mail = c.mail || st != parse.Ignored
			}
		}
		if st == parse.Ignored {
			continue
		}
		ev.File, ev.Line = src.Name(), src.LineNo()
		if st == parse.Malformed {
			if m := p.met(); m != nil {
				m.malformed.Add(1)
			}
			p.malformed++
			p.sum.AddMalformed(ev)
			continue
		}
		return ev, nil
	}
}

// passed counts n lines of size bytes passed over unparsed.
func (p *pipeline) passed(n int, size int64) {
	p.sum.Lines += int64(n)
	if m := p.met(); m != nil {
		m.lines.Add(int64(n))
	}
	if p.prog != nil {
		p.prog.tick(n, size)
	}
	if c := p.in; c != nil {
		c.lines += int64(n)
	}
}

// readError names the file and the line where reading src stopped. Before
// the first line (a followed path that turned out to be a directory) there
// is no line to name, and the error usually names the file already.
func readError(src lineSource, err error) error {
	name, n := src.Name(), src.LineNo()
	switch {
	case n > 0:
		return fmt.Errorf("%s: after line %d: %w", name, n, err)
	case strings.Contains(err.Error(), name):
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// handle classifies, filters and records one event.
func (p *pipeline) handle(ev parse.Event) error {
	o, ok := p.record(ev)
	if !ok {
		return nil
	}
	return p.act(ev, o)
}

// record classifies ev and reports whether the filters keep it; a kept
// event is added to the summary. runParallel calls it on the reading
// goroutine.
func (p *pipeline) record(ev parse.Event) (ipranges.Origin, bool) {
	var o ipranges.Origin
	if ev.Addr.IsValid() {
		o = p.cls.Classify(ev.Addr)
	}
	if p.keep != nil && !p.keep(ev, o) {
		return o, false
	}
	if !p.noSummary {
		p.sum.Add(ev, o)
	}
	return o, true
}

// act does the rest for a kept event: the users' record, the metrics,
// the report accumulators, the event output and the rules.
func (p *pipeline) act(ev parse.Event, o ipranges.Origin) error {
	if p.users != nil {
		p.users.Add(ev, o)
	}
	if m := p.met(); m != nil {
		m.event(ev, o)
	}
	if p.observe != nil {
		p.observe(ev, o)
	}
	if p.events != nil {
		if err := p.events.Write(ev, o); err != nil {
			return err
		}
	}
	var found []rules.Finding
	if p.rules != nil {
		found = p.rules.Observe(ev, o)
	}
	if p.live != nil {
		for _, f := range found {
			if err := p.live.Write(f); err != nil {
				return err
			}
		}
		// Live: each finding is notified as it becomes certain.
		p.alert.findings(p.ctx, found)
	}
	if p.flush != nil && (p.events != nil || len(found) > 0) {
		return p.flush()
	}
	return nil
}

// scanFiles reads each path whole, oldest generation first; several logs
// (two servers, a journald export and a file) are read side by side and
// their events merged in time order. A file that cannot be opened or read
// fully is reported in the returned inputError and the others are still
// read.
func (p *pipeline) scanFiles(paths []string, stdin io.Reader) error {
	paths = p.once(paths)
	if groups := byLog(logfile.SortOldestFirst(paths)); len(groups) > 1 {
		return p.scanMerged(groups, stdin)
	}
	var ie inputError
	for _, path := range logfile.SortOldestFirst(paths) {
		if err := p.scanFile(path, stdin); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			ie.errs = append(ie.errs, err)
		}
	}
	if len(ie.errs) > 0 {
		p.sum.InputErrors += len(ie.errs)
		return &ie
	}
	return nil
}

// once returns paths without the ones naming a file named before (the
// same device and inode: a path given twice, `mail.log mail.log*`, a
// symbolic link and its target), saying so on stderr: read twice, every
// count would double.
func (p *pipeline) once(paths []string) []string {
	type named struct {
		path string
		fi   os.FileInfo
	}
	var seen []named
	out := make([]string, 0, len(paths))
	for _, path := range paths {
		if path == "-" {
			out = append(out, path)
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			out = append(out, path) // opening it reports the error
			continue
		}
		dup := ""
		for _, s := range seen {
			if os.SameFile(s.fi, fi) {
				dup = s.path
				break
			}
		}
		if dup != "" {
			if p.stderr != nil {
				fmt.Fprintf(p.stderr, "mailaudit: warning: %s is the same file as %s: read once\n", path, dup)
			}
			continue
		}
		seen = append(seen, named{path, fi})
		out = append(out, path)
	}
	return out
}

// byLog groups paths by the log they are generations of, in the order
// the logs first appear.
func byLog(paths []string) [][]string {
	idx := make(map[string]int)
	var groups [][]string
	for _, path := range paths {
		k := logfile.LogOf(path)
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], path)
	}
	return groups
}

// logStream is one log being read event by event for scanMerged: its
// generations oldest first, with a parser of its own (each log infers its
// own years).
type logStream struct {
	paths  []string
	parser parse.Parser
	in     *logfile.Input
	src    *fileSource
	check  *inputCheck
	ev     parse.Event // the next event, when ok
	ok     bool
}

// scanMerged reads several logs side by side and hands their events on in
// time order, so the rules and the event output see one timeline. Memory
// holds one pending event per log.
func (p *pipeline) scanMerged(groups [][]string, stdin io.Reader) error {
	var ie inputError
	streams := make([]*logStream, len(groups))
	defer func() {
		for _, s := range streams {
			if s != nil && s.in != nil {
				s.in.Close()
			}
		}
	}()
	if p.prog != nil {
		p.prog.startMany(len(groups))
	}
	for i, g := range groups {
		streams[i] = &logStream{paths: g, parser: p.parser}
		if err := p.advance(streams[i], stdin, &ie); err != nil {
			return err
		}
	}
	for {
		var next *logStream
		for _, s := range streams {
			if s.ok && (next == nil || s.ev.Time.Before(next.ev.Time)) {
				next = s
			}
		}
		if next == nil {
			break
		}
		if err := p.handle(next.ev); err != nil {
			return err
		}
		if err := p.advance(next, stdin, &ie); err != nil {
			return err
		}
	}
	if len(ie.errs) > 0 {
		p.sum.InputErrors += len(ie.errs)
		return &ie
	}
	return nil
}

// advance moves s to its next event, going on to the log's next file when
// one ends; s.ok is false when the log is done. A file that cannot be
// opened or read is recorded in ie and the log goes on with its next file.
func (p *pipeline) advance(s *logStream, stdin io.Reader, ie *inputError) error {
	for {
		if s.src == nil {
			if len(s.paths) == 0 {
				s.ok = false
				return nil
			}
			in, err := logfile.Open(s.paths[0], stdin)
			s.paths = s.paths[1:]
			if err != nil {
				ie.errs = append(ie.errs, err)
				continue
			}
			p.sum.Files++
			s.in, s.src = in, p.newFileSource(in, &s.parser)
			s.check = &inputCheck{name: displayName(in.Name())}
		}
		p.in = s.check
		ev, err := p.nextEvent(&s.parser, s.src)
		p.in = nil
		if err == nil {
			s.ev, s.ok = ev, true
			return nil
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		if err != io.EOF {
			ie.errs = append(ie.errs, err)
		}
		if err := p.endInput(s.check); err != nil {
			ie.errs = append(ie.errs, err)
		}
		p.sum.LongLines += int64(s.src.Long())
		s.in.Close()
		s.in, s.src = nil, nil
	}
}

func (p *pipeline) scanFile(path string, stdin io.Reader) error {
	in, err := logfile.Open(path, stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	p.sum.Files++
	if p.prog != nil {
		p.prog.start(in)
	}
	c := p.newInput(displayName(in.Name()))
	err = p.runParallel(p.newFileSource(in, &p.parser))
	return errors.Join(err, p.endInput(c))
}

// newFileSource returns the source reading in whole with parser.
func (p *pipeline) newFileSource(in *logfile.Input, parser *parse.Parser) *fileSource {
	src := &fileSource{in: in, lr: logfile.NewLineReader(in)}
	src.lr.OnLong = p.longLine(parser, src.Name)
	return src
}

// scanState reads what was added to each path since the run that saved
// statePath, then saves the new positions. The state is saved only after
// out has been flushed (at-least-once delivery); a path that failed keeps
// its old position so its lines are read again next time.
func (p *pipeline) scanState(statePath string, paths []string, output func() error) error {
	lk, err := lockState(statePath)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	st, err := logfile.LoadState(statePath)
	if err != nil {
		return err
	}
	var ie inputError
	paths = p.once(paths)
	// `mail.log*` names the rotated generations too: Resume reads them
	// from the saved position itself, so only the live logs are resumed.
	live := logfile.CurrentOnly(paths)
	if slices.Contains(live, "-") {
		return usagef("--state cannot resume stdin")
	}
	for _, path := range live {
		entry := st.Entry(path)
		if entry.IsZero() {
			// The first run of this log has no position to resume
			// the rotated generations from: they are read whole
			// first, oldest first, as without --state, those found
			// next to the log and those named (mail.log*) alike, so
			// a first run killed before its first save and followed
			// by a rotation does not leave them unread for good.
			// One not there (yet) is passed over, as on later runs.
			gens, err := logfile.Rotated(path)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				ie.errs = append(ie.errs, err)
			}
			for _, g := range logfile.SortOldestFirst(paths) {
				if g != path && !slices.Contains(live, g) && logfile.LogOf(g) == logfile.LogOf(path) && !slices.Contains(gens, g) {
					gens = append([]string{g}, gens...) // named but not found as a generation: before them
				}
			}
			for _, g := range p.once(gens) {
				if err := p.scanFile(g, nil); err != nil && !errors.Is(err, fs.ErrNotExist) {
					if errors.Is(err, context.Canceled) {
						return err
					}
					ie.errs = append(ie.errs, err)
				}
			}
		}
		rs, err := logfile.Resume(path, entry)
		if err != nil {
			ie.errs = append(ie.errs, err)
			continue
		}
		p.sum.Files++
		if gap := rs.Gap(); gap != nil {
			// The rest is still read; the hole is reported (exit 3).
			ie.errs = append(ie.errs, gap)
		}
		rs.SetOnLong(p.longLine(&p.parser, rs.Name))
		check := p.newInput(path)
		for {
			err := p.run(rs)
			if err == nil {
				break
			}
			if errors.Is(err, context.Canceled) {
				rs.Close()
				return err
			}
			if rs.Name() == path {
				// The live file: the next run retries from here.
				ie.errs = append(ie.errs, err)
				break
			}
			// A damaged rotated generation (a .gz cut short): its
			// unreadable rest is given up so the log does not stop
			// here for good; the next call goes on with the next one.
			ie.errs = append(ie.errs, fmt.Errorf("%w (the rest of this rotated file is skipped)", err))
		}
		if err := p.endInput(check); err != nil {
			ie.errs = append(ie.errs, err)
		}
		// Commit points just past the last line processed: saving it
		// after the output keeps delivery at least once.
		st.Set(path, rs.Commit())
		rs.Close()
	}
	if err := output(); err != nil {
		return err
	}
	if err := st.Save(statePath); err != nil {
		return err
	}
	if err := p.saveUsers(); err != nil {
		return err
	}
	if len(ie.errs) > 0 {
		p.sum.InputErrors += len(ie.errs)
		return &ie
	}
	return nil
}

// lockState takes the lock of a --state file, creating its directory
// first: the first run of a cron job or service names a state file in a
// directory nobody has made yet (/var/lib/mailaudit/scan.state).
func lockState(statePath string) (*logfile.FileLock, error) {
	if err := os.MkdirAll(filepath.Dir(statePath), 0o700); err != nil {
		return nil, fmt.Errorf("--state %s: %w", statePath, err)
	}
	return logfile.Lock(statePath)
}

// follow reads path as it grows until ctx is done. It starts after the
// current end of the file unless fromStart is set; with a statePath it
// continues from the saved position instead (the start, on the first
// run) and saves the position reached (after the output was flushed) when
// it stops, every interval while lines print something, and at least
// every minute while lines come: a follower killed hard (OOM, a crash
// loop) repeats little. Lines found missing (a rotated file gone before
// it was read) are warned about at once and make the exit status 3.
func (p *pipeline) follow(ctx context.Context, path string, fromStart bool, interval time.Duration, statePath string) error {
	opts := logfile.FollowOptions{FromEnd: !fromStart, Interval: interval}
	var st *logfile.State
	if statePath != "" {
		lk, err := lockState(statePath)
		if err != nil {
			return err
		}
		defer lk.Unlock()
		if st, err = logfile.LoadState(statePath); err != nil {
			return err
		}
		// Like a cron run, the first start reads the whole file.
		opts.Entry, opts.FromEnd = st.Entry(path), false
	}
	var f *logfile.Follower
	opts.OnLong = p.longLine(&p.parser, func() string { return f.Name() })
	f = logfile.Follow(path, opts)
	defer f.Close()
	p.sum.Files++
	var gaps inputError
	src := &followSource{ctx: ctx, f: f, interval: interval, gap: func(err error) {
		gaps.errs = append(gaps.errs, err)
		if p.stderr != nil {
			fmt.Fprintf(p.stderr, "mailaudit: warning: %v\n", err)
		}
	}}
	if st != nil {
		flush := p.flush
		p.flush = func() error {
			src.output = true
			return flush()
		}
		src.saved = time.Now()
		src.save = func() error {
			if err := flush(); err != nil {
				return err
			}
			st.Set(path, f.Entry())
			return st.Save(statePath)
		}
	}
	err := p.run(src)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if st != nil {
		if ferr := p.flush(); ferr != nil {
			return errors.Join(err, ferr)
		}
		st.Set(path, f.Entry())
		err = errors.Join(err, st.Save(statePath))
	}
	if len(gaps.errs) > 0 {
		p.sum.InputErrors += len(gaps.errs)
		err = errors.Join(err, &gaps)
	}
	return errors.Join(err, p.saveUsers())
}

// saveUsers adds what this run learned of the users' logins to the record
// in the state directory, and starts learning afresh (a follower saves
// now and then).
func (p *pipeline) saveUsers() error {
	if p.users == nil {
		return nil
	}
	if err := saveUsers(p.usersDir, p.users); err != nil {
		return fmt.Errorf("saving the last logins per user: %w", err)
	}
	p.users = report.NewUsers()
	return nil
}
