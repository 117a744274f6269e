package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// success handles a login whose credentials were accepted, including one
// refused afterwards (connection limit).
func (e *Engine) success(in input, out []Finding) []Finding {
	ev := in.ev
	user := in.user
	f := fail{t: in.t, user: user, n: 1, file: ev.File, line: ev.Line}
	allowed := e.allow.Allows(user, in.addr, in.o)
	var s *source
	if !in.proxy {
		s = e.sources[in.src]
		if s != nil {
			s.lastSeen = in.t
			if s.pending > 0 && user != "" {
				out = e.explainBy(in, s, out)
			}
		}
	}
	var acc *accusation
	fam := false
	serious := "" // the rule of a finding of high or above this login raised
	if user != "" && !in.proxy {
		acc = e.accusedAt(in.src, in.t)
		fam = e.familiar(user, in.addr, in.o)
		if acc != nil && in.o.Class != ipranges.Intermediary && e.ownOnly(in.src, user) {
			// Every name the source tried was this user's, and the user
			// now logs in from it: the user's own device with an old
			// password, not an attacker.
			e.withdraw(in.src, user)
			acc = nil
		}
		if acc == nil && in.o.Class != ipranges.Intermediary {
			e.withdrawNear(in.src, user)
		}
		switch {
		case acc != nil && in.o.Class == ipranges.Intermediary:
			// A provider's address is shared by its users: only an
			// account that failed through it (in the spray, or within
			// success_after_failures.window before) is compromised
			// through it, even if the user also uses the provider.
			if e.cfg.AccountCompromise.Enabled && (e.tried(in.src, user) || e.failedBefore(in, e.cfg.SuccessAfterFailures.Window)) {
				out = e.compromise(in, acc, out)
				serious = RuleAccountCompromise
			}
		case fam:
		case acc != nil && e.cfg.AccountCompromise.Enabled:
			out = e.compromise(in, acc, out)
			serious = RuleAccountCompromise
		case e.cfg.SuccessAfterFailures.Enabled:
			var raised bool
			if out, raised = e.successAfterFailures(in, f, out); raised && e.cfg.SuccessAfterFailures.Severity >= High {
				serious = RuleSuccessAfterFailures
			}
		}
	}
	if e.allow != nil && e.cfg.NotAllowlisted.Enabled && !allowed {
		out = e.simple(aggKey{rule: RuleNotAllowlisted, user: user, subject: in.ip},
			e.cfg.NotAllowlisted.Severity, in, f, out, func(a *agg) string {
				return fmt.Sprintf("%s of %q from %s, which is not on the allowlist", plural(a.f.Count, "successful login"), a.f.User, a.f.RemoteIP)
			})
		if e.cfg.NotAllowlisted.Severity >= High && serious == "" {
			serious = RuleNotAllowlisted
		}
	}
	if in.o.Class == ipranges.Intermediary && e.cfg.CloudIntermediary.Enabled && (e.allow == nil || !allowed) {
		out = e.cloud(in, f, out)
	}
	// A secured connection's leg to us is trusted; the client's leg to the
	// proxy cannot be seen from here.
	if e.cfg.CleartextAuth.Enabled && ev.TLS == parse.TLSNo && !ev.Secured && !in.addr.IsLoopback() && !challengeResponse(ev.Method) {
		m := "cleartext"
		if ev.Method != "" {
			m = ev.Method
		}
		out = e.simple(aggKey{rule: RuleCleartextAuth, user: user, subject: in.ip},
			e.cfg.CleartextAuth.Severity, in, f, out, func(a *agg) string {
				return fmt.Sprintf("%s of %q from %s without TLS (%s credentials readable on the wire)", plural(a.f.Count, "login"), a.f.User, a.f.RemoteIP, m)
			})
	}
	if user == "" || in.proxy {
		return out
	}
	if e.cfg.ImpossibleTravel.Enabled && in.o.Class != ipranges.Private && in.o.Class != ipranges.Intermediary {
		out = e.travel(in, f, out)
	}
	devs := e.withClient(e.devices(in.addr, in.o), in)
	if serious != "" {
		// Never learn what raised a serious finding: the attacker's
		// address must not become the victim's device.
		for _, d := range devs {
			known, err := e.base.Known(user, d)
			e.setErr(err)
			if !known {
				e.setErr(e.base.Quarantine(user, d, in.t, serious))
			}
		}
		return out
	}
	var learned []Device // the facets new to the user
	for _, d := range devs {
		known, err := e.base.Known(user, d)
		e.setErr(err)
		if !known {
			learned = append(learned, d)
		}
	}
	if in.o.Class != ipranges.Intermediary {
		out = e.newDevice(in, f, e.allow != nil && allowed, learned, out)
	}
	for _, d := range devs {
		e.setErr(e.base.Learn(user, d, in.t))
	}
	if acc == nil {
		if s == nil {
			s = e.source(in.src)
		}
		if s != nil {
			s.lastSeen = in.t
			s.trustedLogin(user, in.t)
			if !fam && len(s.recent) < maxRecent {
				s.recent = append(s.recent, recentLogin{user: user, t: in.t, file: ev.File, line: ev.Line,
					ip: in.ip, o: in.o, learned: learned, sasl: ev.Kind == parse.KindSASL})
			}
		}
	}
	return out
}

// successAfterFailures raises success-after-failures: the user's own
// failures from a source new to the user, then a successful login — a
// guessed password, or a new device set up with an old password.
func (e *Engine) successAfterFailures(in input, f fail, out []Finding) ([]Finding, bool) {
	c := e.cfg.SuccessAfterFailures
	p := e.pairs[pairKey{in.src, in.user}]
	if p == nil {
		return out, false
	}
	cut := in.t.Add(-c.Window)
	failed := p.all.since(cut)
	if failed < c.Failures {
		return out, false
	}
	k := aggKey{rule: RuleSuccessAfterFailures, user: in.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out, true
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out), true
	}
	var items []fail
	for _, it := range p.all.live() {
		if !it.t.Before(cut) {
			items = append(items, it)
		}
	}
	first := items[0].t
	// Keep room for the success line itself in the evidence.
	if len(items) >= e.cfg.EvidenceCap {
		items = items[len(items)-e.cfg.EvidenceCap+1:]
	}
	a := e.open(k, c.Severity, in, true, nil)
	a.f.User = in.user
	for _, it := range items {
		if ev := it.evidence(); ev != "" && len(a.f.Evidence) < e.cfg.EvidenceCap-1 {
			a.f.Evidence = append(a.f.Evidence, ev)
		}
	}
	a.add(f, e.cfg)
	a.f.Count += failed
	if first.Before(a.f.First) {
		a.f.First = first
	}
	a.msg = func(a *agg) string {
		return fmt.Sprintf("successful login of %q from %s, new for the user, after %s of the user from there within %s: a guessed password, or a new device set up with an old password — confirm with the user",
			a.f.User, a.f.RemoteIP, plural(failed, "failed attempt"), human(c.Window))
	}
	return append(out, e.snapshot(a)), true
}

// newDevice raises new-device for a login whose reported facets the
// user's baseline does not know, once the baseline is mature.
func (e *Engine) newDevice(in input, f fail, allowed bool, fresh []Device, out []Finding) []Finding {
	c := e.cfg.NewDevice
	k := aggKey{rule: RuleNewDevice, user: in.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if !c.Enabled || allowed || in.o.Class == ipranges.Private || len(fresh) == 0 {
		return out
	}
	first, logins, err := e.base.Since(in.user)
	if err != nil {
		e.setErr(err)
		return out
	}
	age := in.t.Sub(first)
	if first.IsZero() || age < c.LearningPeriod || logins < int64(c.LearningLogins) {
		return out // still learning: silently
	}
	var names []string
	sev := Severity(0)
	for _, d := range fresh {
		if !e.report[d.Facet] {
			continue
		}
		names = append(names, d.String())
		s := c.Severity
		if d.Facet == FacetCountry {
			s = c.CountrySeverity
		}
		sev = max(sev, s)
	}
	if len(names) == 0 {
		return out
	}
	if in.o.Class == ipranges.Hosting {
		sev = max(sev, c.RiskSeverity)
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, sev, in.t, f, out)
	}
	a := e.open(k, sev, in, true, []fail{f})
	a.f.User = in.user
	days := int(age / (24 * time.Hour))
	a.f.Learning = &Learning{Days: days, Logins: logins}
	risk := ""
	if in.o.Class == ipranges.Hosting {
		risk = " (a hosting network)"
	}
	msg := fmt.Sprintf("login of %q from a new %s%s; baseline: %s, %s", in.user, strings.Join(names, ", new "), risk,
		plural(days, "day"), plural(int(logins), "login"))
	a.msg = func(*agg) string { return msg }
	return append(out, e.snapshot(a))
}
