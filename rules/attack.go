package rules

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// hostile feeds one hostile failure to the attack rules. s is its
// source's state, nil when it is not tracked.
func (e *Engine) hostile(p pendingFail, s *source, out []Finding) []Finding {
	c := e.cfg
	f := p.f
	f.ip = p.ip
	in := input{t: f.t, addr: p.src, src: p.src, ip: p.ip, o: p.o, user: f.user}
	in.ev.File, in.ev.Line, in.ev.HasUser, in.ev.Service = f.file, f.line, f.user != "", p.service
	bursting, repeating := false, false
	if s != nil {
		s.hostile += f.n
		if f.user != "" {
			s.named += f.n
		}
		if f.user != "" {
			s.addTried(f.user)
		}
		s.pushHostile(f, c)
		bursting = s.burstSum >= c.BruteForce.Failures
		// A source that repeats one name is no sprayer: a device with an
		// old password, or guessing one account (brute-force judges it).
		repeating = s.tried.len() == 1 && s.named >= 2
		if a := e.accused[p.src]; repeating && a != nil && a.rule == RuleSprayCampaign {
			// It joined a campaign on its first attempts; repeating one
			// name since, it is no sprayer (brute-force judges it).
			e.leaveCampaigns(p.src)
			delete(e.accused, p.src)
		}
		if c.PasswordSpray.Enabled {
			out = e.spray(in, s, f, out)
		}
		if c.BruteForce.Enabled && p.o.Class != ipranges.Intermediary {
			out = e.bruteForce(in, s, f, out)
		}
	}
	if c.SprayCampaign.Enabled && !bursting && !repeating {
		out = e.campaignFeed(p, out)
	}
	if f.user != "" && c.DistributedAttack.Enabled {
		out = e.distributed(in, f, out)
	}
	return out
}

func (e *Engine) spray(in input, s *source, f fail, out []Finding) []Finding {
	c := e.cfg.PasswordSpray
	subject := sourceName(in.src)
	k := aggKey{rule: RulePasswordSpray, subject: subject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addSource(in.ip, e.cfg.MaxAddresses)
		if f.user != "" {
			a.addUser(f.user)
		}
		return out
	}
	// Only the day's named users within the spray window count.
	cut := f.t.Add(-c.Window)
	names := make(map[string]struct{})
	for _, it := range s.day.live() {
		if it.user != "" && !it.t.Before(cut) {
			names[it.user] = struct{}{}
		}
	}
	if len(names) < c.Users {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out)
	}
	var items []fail
	for _, it := range s.day.live() {
		if !it.t.Before(cut) {
			items = append(items, it)
		}
	}
	a := e.open(k, c.Severity, in, false, items)
	a.many = true
	for _, it := range items {
		a.addSource(cmp.Or(it.ip, in.ip), e.cfg.MaxAddresses)
		if it.user != "" {
			a.addUser(it.user)
		}
	}
	a.msg = func(a *agg) string {
		return fmt.Sprintf("%s for %s from %s (threshold %d within %s)",
			plural(a.f.Count, "hostile failed attempt"), pluralSet(len(a.users), "distinct user"), a.from(), c.Users, human(c.Window))
	}
	out = append(out, e.snapshot(a))
	return e.accuse(in.src, RulePasswordSpray, "", in.t, out)
}

func (e *Engine) bruteForce(in input, s *source, f fail, out []Finding) []Finding {
	c := e.cfg.BruteForce
	subject := sourceName(in.src)
	k := aggKey{rule: RuleBruteForce, subject: subject}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addSource(in.ip, e.cfg.MaxAddresses)
		if a.f.HasUser && a.f.User != f.user {
			a.f.User, a.f.HasUser = "", false
		}
		if a.oneAccount != "" && f.user != "" && f.user != a.oneAccount {
			// Another account: guessing, not a device.
			a.oneAccount, a.f.Severity = "", c.Severity
			return e.accuse(in.src, RuleBruteForce, "", in.t, out)
		}
		return out
	}
	if e.findings[aggKey{rule: RulePasswordSpray, subject: subject}] != nil {
		return out // password-spray reports this source
	}
	var items []fail
	slow := false
	switch {
	case s.burstSum >= c.Failures:
		items = s.burst()
	case s.day.since(f.t.Add(-c.SlowWindow)) >= c.SlowFailures:
		items, slow = s.day.live(), true
	default:
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out)
	}
	single := items[0].user
	for _, it := range items {
		if it.user != single {
			single = ""
			break
		}
	}
	// Slow failures naming one account only are as likely the user's own
	// device with an old password on an address not learned yet: low,
	// and no accusation (a login from there is success-after-failures).
	named := ""
	for _, it := range items {
		if it.user != "" {
			if named != "" && it.user != named {
				named = ""
				break
			}
			named = it.user
		}
	}
	oneAccount := slow && named != "" && s.tried.len() == 1
	sev := c.Severity
	if oneAccount {
		sev = min(sev, Low)
	}
	a := e.open(k, sev, in, single != "", items)
	a.f.User = single
	a.many = true
	if oneAccount {
		a.oneAccount = named
	}
	for _, it := range items {
		a.addSource(cmp.Or(it.ip, in.ip), e.cfg.MaxAddresses)
	}
	a.msg = func(a *agg) string {
		who := ""
		if a.f.HasUser {
			who = fmt.Sprintf(" for %q", a.f.User)
		}
		if a.oneAccount != "" {
			return fmt.Sprintf("slow guessing of one account, or a device of %q with an old password on a new address: %s from %s over %s (threshold %d within %s)",
				a.oneAccount, plural(a.f.Count, "failed attempt"), a.from(), human(a.f.Last.Sub(a.f.First).Round(time.Minute)), c.SlowFailures, human(c.SlowWindow))
		}
		if slow {
			return fmt.Sprintf("slow guessing: %s%s from %s over %s (threshold %d within %s)", plural(a.f.Count, "hostile failed attempt"), who, a.from(),
				human(a.f.Last.Sub(a.f.First).Round(time.Minute)), c.SlowFailures, human(c.SlowWindow))
		}
		return fmt.Sprintf("%s%s from %s (threshold %d within %s)", plural(a.f.Count, "hostile failed attempt"), who, a.from(), c.Failures, human(c.Window))
	}
	out = append(out, e.snapshot(a))
	if oneAccount {
		return out
	}
	return e.accuse(in.src, RuleBruteForce, "", in.t, out)
}

func (e *Engine) distributed(in input, f fail, out []Finding) []Finding {
	c := e.cfg.DistributedAttack
	u := e.user(f.user)
	if u == nil {
		return out
	}
	g := f
	g.ip = sourceName(in.src) // the key counted: the source
	if in.o.Class == ipranges.Intermediary && in.o.Provider != "" {
		// A cloud service comes from many of its addresses: one source.
		g.ip = "provider:" + strings.ToLower(in.o.Provider)
	}
	u.dist.push(g, f.t, c.Window, c.Addresses)
	k := aggKey{rule: RuleDistributedAttack, user: f.user}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		a.addAddr(in.ip, e.cfg.MaxAddresses)
		return out
	}
	if u.sources.len() < c.Addresses {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out)
	}
	a := e.open(k, c.Severity, in, true, u.dist.live())
	a.f.User = f.user
	a.f.RemoteIP = ""
	a.f.Origin = ipranges.Origin{}
	for _, it := range u.dist.live() {
		if !strings.HasPrefix(it.ip, "provider:") {
			a.addAddr(it.ip, e.cfg.MaxAddresses)
		}
	}
	a.addAddr(in.ip, e.cfg.MaxAddresses)
	a.msg = func(a *agg) string {
		return fmt.Sprintf("%s for %q from %s (threshold %d within %s)",
			plural(a.f.Count, "hostile failed attempt"), a.f.User, pluralSet(len(a.addrs), "address"), c.Addresses, human(c.Window))
	}
	return append(out, e.snapshot(a))
}

// stale raises stale-credentials: a user's failures from a source in the
// user's baseline that is not accused.
func (e *Engine) stale(in input, p *pairState, f fail, out []Finding) []Finding {
	c := e.cfg.StaleCredentials
	k := aggKey{rule: RuleStaleCredentials, user: f.user, subject: in.ip}
	if a := e.findings[k]; a != nil {
		a.add(f, e.cfg)
		return out
	}
	if p.familiar.sum < c.Failures || e.accusedAt(in.src, in.t) != nil {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, in.t, f, out)
	}
	a := e.open(k, c.Severity, in, true, p.familiar.live())
	a.f.User = f.user
	a.msg = func(a *agg) string {
		return fmt.Sprintf("%s for %q from %s (a device of the user: its baseline knows the place, or the same wrong password repeats), spread over %s: a device with an outdated password",
			plural(a.f.Count, "failed attempt"), a.f.User, a.f.RemoteIP, human(a.f.Last.Sub(a.f.First).Round(time.Second)))
	}
	return append(out, e.snapshot(a))
}
