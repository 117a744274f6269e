package main

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
	"github.com/mailaudit/mailaudit/report"
	"github.com/mailaudit/mailaudit/rules"
)

// filterFlags narrow the events a command looks at: one mailbox, a time
// window, an address range, a provider.
type filterFlags struct {
	user     string
	since    string
	until    string
	address  string
	provider string
	now      func() time.Time // nil: time.Now
}

func (f *filterFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.user, "user", "", "the access history of `USER`: that user's events in time order (case and surrounding spaces do not matter)")
	fs.StringVar(&f.since, "since", "", "only events at or after `WHEN`: a date (2026-07-01), RFC3339, or a duration back from now (24h, 7d)")
	fs.StringVar(&f.until, "until", "", "only events before `WHEN`: a date (the whole day is included), RFC3339, or a duration back from now")
	fs.StringVar(&f.address, "address", "", "only events from this address or `CIDR`")
	fs.StringVar(&f.provider, "provider", "", "only events whose address belongs to `PROVIDER` (microsoft, google, amazon, …)")
}

// checkProvider refuses a --provider none of known names (in any case):
// a typo would otherwise match nothing, silently.
func (f *filterFlags) checkProvider(known []string) error {
	if f.provider == "" || slices.Contains(known, strings.ToLower(f.provider)) {
		return nil
	}
	return usagef("--provider %q is not a known provider (known: %s)", f.provider, strings.Join(known, ", "))
}

// keep returns the filter, or nil when no filter flag is set. Dates and
// times without a zone are read in loc, the zone of the logs.
func (f *filterFlags) keep(loc *time.Location) (func(parse.Event, ipranges.Origin) bool, error) {
	now := time.Now
	if f.now != nil {
		now = f.now
	}
	since, err := parseWhen(f.since, loc, now, false)
	if err != nil {
		return nil, usagef("--since: %v", err)
	}
	until, err := parseWhen(f.until, loc, now, true)
	if err != nil {
		return nil, usagef("--until: %v", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return nil, usagef("--since %s is not before --until %s: no event can match", f.since, f.until)
	}
	var pfx netip.Prefix
	if f.address != "" {
		if pfx, err = parsePrefixOrAddr(f.address); err != nil {
			return nil, usagef("--address: %v", err)
		}
	}
	if f.user == "" && since.IsZero() && until.IsZero() && !pfx.IsValid() && f.provider == "" {
		return nil, nil
	}
	user, provider := rules.CanonicalUser(f.user), strings.ToLower(f.provider)
	return func(ev parse.Event, o ipranges.Origin) bool {
		switch {
		case f.user != "" && (!ev.HasUser || rules.CanonicalUser(ev.User) != user):
			return false
		case !since.IsZero() && ev.Time.Before(since):
			return false
		case !until.IsZero() && !ev.Time.Before(until):
			return false
		case pfx.IsValid() && !pfx.Contains(ev.Addr.Unmap()):
			return false
		case provider != "" && o.Provider != provider:
			return false
		}
		return true
	}, nil
}

// parseWhen reads a --since/--until value. A date means its midnight in
// loc; for --until (end) it means the midnight after, so the day is
// included.
func parseWhen(s string, loc *time.Location, now func() time.Time, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := parseAgo(s); ok {
		return now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, &whenError{s}
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// parseAgo reads a duration back from now: Go's form (24h, 90m, 1h30m) or
// whole days and weeks (7d, 2w), which admins write. A leading minus is
// ignored: it is back from now either way.
func parseAgo(s string) (time.Duration, bool) {
	s = strings.TrimPrefix(s, "-")
	if n, ok := strings.CutSuffix(s, "d"); ok {
		return days(n, 1)
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		return days(n, 7)
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// days reads n, a whole number of units of unit days each.
func days(n string, unit int) (time.Duration, bool) {
	v, err := strconv.Atoi(n)
	if err != nil || v < 0 || v > 100000 {
		return 0, false
	}
	return time.Duration(v*unit) * 24 * time.Hour, true
}

type whenError struct{ s string }

func (e *whenError) Error() string {
	return "cannot read " + `"` + e.s + `"` + " as a date (2026-07-01), a time (RFC3339) or a duration back from now (24h, 7d, 2w)"
}

// parsePrefixOrAddr reads a CIDR or a single address.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// sortedEvents buffers events and writes them in time order on Close: an
// access history from several files (or journald) reads as one timeline.
type sortedEvents struct {
	w   report.EventWriter
	evs []eventOrigin
}

type eventOrigin struct {
	ev parse.Event
	o  ipranges.Origin
}

func newSortedEvents(w report.EventWriter) *sortedEvents { return &sortedEvents{w: w} }

func (s *sortedEvents) Write(ev parse.Event, o ipranges.Origin) error {
	s.evs = append(s.evs, eventOrigin{ev, o})
	return nil
}

func (s *sortedEvents) Flush() error { return nil }

func (s *sortedEvents) Close() error {
	slices.SortStableFunc(s.evs, func(a, b eventOrigin) int { return a.ev.Time.Compare(b.ev.Time) })
	for _, e := range s.evs {
		if err := s.w.Write(e.ev, e.o); err != nil {
			return err
		}
	}
	return s.w.Close()
}
