package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// accusation is why a source is accused, and until when.
type accusation struct {
	rule     string
	campaign string
	at       time.Time
	until    time.Time
}

// accusedAt returns the accusation of src in force at t, if any.
func (e *Engine) accusedAt(src netip.Addr, t time.Time) *accusation {
	a := e.accused[src]
	if a == nil || a.until.Before(t) {
		return nil
	}
	return a
}

// accuse records that rule accused src at t, and raises account-compromise
// for the logins from src that were new to their users (before the
// accusation, within Retention).
func (e *Engine) accuse(src netip.Addr, rule, campaign string, t time.Time, out []Finding) []Finding {
	a := e.accused[src]
	if a == nil {
		if len(e.accused) >= e.maxSources {
			// Keep the most recent accusations.
			evictOldest(e.accused, func(a *accusation) int64 { return a.at.UnixNano() })
		}
		a = &accusation{rule: rule, campaign: campaign, at: t}
		e.accused[src] = a
	} else if a.campaign == "" && campaign != "" {
		a.campaign = campaign
	}
	a.until = maxTime(a.until, t.Add(e.cfg.Retention))
	e.noteOwnAccused(src)
	s := e.sources[src]
	if s == nil || len(s.recent) == 0 || !e.cfg.AccountCompromise.Enabled {
		return out
	}
	recent := s.recent
	s.recent = nil
	for _, r := range recent {
		if r.t.Before(t.Add(-e.cfg.Retention)) {
			continue
		}
		if r.o.Class == ipranges.Intermediary && !e.tried(src, r.user) {
			continue
		}
		for _, d := range r.learned {
			e.setErr(e.base.Quarantine(r.user, d, r.t, RuleAccountCompromise))
		}
		in := input{t: r.t, addr: src, src: src, ip: r.ip, o: r.o, user: r.user}
		in.ev.File, in.ev.Line, in.ev.HasUser = r.file, r.line, true
		if r.sasl {
			in.ev.Kind = parse.KindSASL
		}
		out = e.compromise(in, a, out)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// noteOwnAccused records src under its one named user, if it has one.
func (e *Engine) noteOwnAccused(src netip.Addr) {
	s := e.sources[src]
	if s == nil || s.tried.len() != 1 {
		return
	}
	for _, u := range s.tried.keys() {
		if l := e.ownAccused[u]; len(l) < 64 && !slices.Contains(l, src) {
			if len(e.ownAccused) >= e.maxStates {
				clear(e.ownAccused)
			}
			e.ownAccused[u] = append(l, src)
		}
	}
}

// withdrawNear withdraws the accusations of sources in the wide network
// of src whose named attempts were all user's, now that user logged in
// from src: the user's phone on its carrier's rotating addresses.
func (e *Engine) withdrawNear(src netip.Addr, user string) {
	l := e.ownAccused[user]
	if len(l) == 0 {
		return
	}
	bits := 32
	if src.Is4() {
		bits = 16
	}
	wide, _ := src.Prefix(bits)
	kept := l[:0]
	for _, a := range l {
		switch {
		case e.accused[a] == nil:
		case wide.Contains(a) && e.ownOnly(a, user):
			e.withdraw(a, user)
		default:
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		delete(e.ownAccused, user)
	} else {
		e.ownAccused[user] = kept
	}
}

// ownOnly reports whether every name src's hostile attempts named is
// user (attempts naming nobody aside).
func (e *Engine) ownOnly(src netip.Addr, user string) bool {
	s := e.sources[src]
	return s != nil && s.tried.len() == 1 && s.tried.has(user)
}

// withdraw clears the accusation of src, whose failures turned out to be
// user's own device: a slow-guessing brute-force finding of user from src
// becomes stale-credentials, and src leaves every campaign.
func (e *Engine) withdraw(src netip.Addr, user string) {
	delete(e.accused, src)
	if s := e.sources[src]; s != nil {
		s.hostile, s.named = 0, 0
		s.tried = keyCounts{}
		s.recent = nil
	}
	subject := sourceName(src)
	bk := aggKey{rule: RuleBruteForce, subject: subject}
	if a := e.findings[bk]; a != nil {
		delete(e.findings, bk)
		e.perRule[RuleBruteForce]--
		sk := aggKey{rule: RuleStaleCredentials, user: user, subject: a.f.RemoteIP}
		if old := e.findings[sk]; old == nil && a.f.RemoteIP != "" {
			a.f.Rule, a.f.Severity, a.many = RuleStaleCredentials, e.cfg.StaleCredentials.Severity, false
			a.f.User, a.f.HasUser = user, true
			a.msg = func(a *agg) string {
				return fmt.Sprintf("%s for %q from %s over %s, then the user logged in from there: a device with an outdated password, not an attack",
					plural(a.f.Count, "failed attempt"), a.f.User, a.f.RemoteIP, human(a.f.Last.Sub(a.f.First).Round(time.Second)))
			}
			e.findings[sk] = a
			e.perRule[RuleStaleCredentials]++
		}
	}
	e.leaveCampaigns(src)
}

// leaveCampaigns takes src out of every campaign. A campaign reported by
// an earlier run is reported again, without it.
func (e *Engine) leaveCampaigns(src netip.Addr) {
	for _, c := range e.campaign.all {
		if m := c.members[src]; m != nil {
			c.attempts -= m.attempts
			c.unnamed -= m.unnamed
			c.nameCount -= m.unnamed
			delete(c.members, src)
			if len(c.members) > 0 {
				e.campaignFinding(c, fail{t: c.last, n: 0}, nil)
			}
		}
	}
}

// failedBefore reports whether in.user failed from in's source within d
// before the login.
func (e *Engine) failedBefore(in input, d time.Duration) bool {
	p := e.pairs[pairKey{in.src, in.user}]
	return p != nil && p.all.since(in.t.Add(-d)) > 0
}

// tried reports whether src's hostile attempts named user.
func (e *Engine) tried(src netip.Addr, user string) bool {
	s := e.sources[src]
	return s != nil && s.tried.has(user)
}

// compromise raises or updates account-compromise: in.user logged in from
// a source accused by an attack rule that was not in the user's baseline.
func (e *Engine) compromise(in input, acc *accusation, out []Finding) []Finding {
	c := e.cfg.AccountCompromise
	f := fail{t: in.t, user: in.user, n: 1, file: in.ev.File, line: in.ev.Line}
	sasl := in.ev.Kind == parse.KindSASL || in.ev.Service == "submission" || in.ev.Service == "smtp"
	e.memberSucceeded(in.src, in.user)
	k := aggKey{rule: RuleAccountCompromise, user: in.user, subject: sourceName(in.src)}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addAddr(in.ip, e.cfg.MaxAddresses)
		if sasl {
			a.f.Compromise.Submissions++
		} else {
			a.f.Compromise.Logins++
		}
		if in.t.Before(a.f.First) {
			a.f.Compromise.Success = f.evidence()
		}
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out)
	}
	a := e.open(k, c.Severity, in, true, []fail{f})
	a.f.User = in.user
	a.addAddr(in.ip, e.cfg.MaxAddresses)
	d := &Compromise{AccusedBy: acc.rule, Campaign: acc.campaign, Success: f.evidence(),
		Actions: []string{
			"reset the password of " + in.user + " and end its sessions",
			"revoke its app passwords and tokens",
			"check its forwarding, sieve and auto-reply rules and what it sent",
			"block " + sourceName(in.src),
		}}
	if s := e.sources[in.src]; s != nil {
		d.Failures = s.hostile
		d.OtherAccounts = s.tried.len()
		if s.tried.has(in.user) {
			d.OtherAccounts--
		}
	}
	if sasl {
		d.Submissions++
	}
	a.f.Compromise = d
	a.msg = func(a *agg) string {
		d := a.f.Compromise
		by := d.AccusedBy
		if d.Campaign != "" {
			by += " " + d.Campaign
		}
		var then []string
		if d.Submissions > 0 {
			then = append(then, plural(d.Submissions, "mail submission")+" (the account sent mail)")
		}
		if d.Logins > 0 {
			then = append(then, plural(d.Logins, "more login"))
		}
		s := fmt.Sprintf("%q logged in from %s, a source accused by %s after %s (%s); not a known device of the user: the password is known to an attacker",
			a.f.User, sourceName(in.src), by, plural(d.Failures, "hostile failed attempt"), plural(d.OtherAccounts, "other account")+" tried")
		if len(then) > 0 {
			s += "; then " + strings.Join(then, ", ")
		}
		return s + ". Reset the password, revoke app passwords, check forwarding and sieve rules"
	}
	return append(out, e.snapshot(a))
}
