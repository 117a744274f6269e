package rules

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// spray-campaign: a server-wide window over the hostile failures of
// sources that are not bursting. While it holds at least
// SprayCampaign.Sources distinct sources and SprayCampaign.Names distinct
// names (each unnamed attempt counting as one), every source with a
// hostile attempt in it joins one campaign; a campaign whose last member
// attempt is less than a window before the condition holds again goes on
// (stretches that touch merge). Each member is accused.

// campItem is one hostile attempt in the campaign window.
type campItem struct {
	t       time.Time
	src     netip.Addr
	ip      string
	name    string // the user, or a unique key for an unnamed attempt
	unnamed bool
	n       int
	file    string
	line    int
	service string
}

// campaignState is the window and the open campaign.
type campaignState struct {
	win        []campItem
	head       int
	mark       int // win[:mark] (from head) were added to cur
	srcs       map[netip.Addr]int
	names      map[string]int
	cur        *campaign
	all        map[string]*campaign // the campaigns of this run and the restored one, by ID
	opened     int                  // campaigns opened: the next ID
	unnamedSeq int
}

type campaign struct {
	id          string
	first, last time.Time
	members     map[netip.Addr]*member
	names       map[string]struct{} // named users tried, capped
	nameCount   int                 // distinct named + unnamed attempts
	attempts    int
	unnamed     int
	services    map[string]struct{}
	// notListed counts the attempts of sources beyond the members kept
	// (MaxSources/5): accused, counted, not listed.
	notListed int
}

type member struct {
	ip          string
	attempts    int
	names       []string // distinct names tried, at most maxMemberNames
	unnamed     int
	succeeded   []string
	evidence    string
	first, last time.Time
}

const (
	maxCampaignNames = 100000
	maxMemberNames   = 64
	// maxCampaignWindow caps the attempts the server-wide window holds
	// (the oldest go first): a flood of 1M hostile attempts an hour is
	// judged on its latest 32768.
	maxCampaignWindow = 1 << 15
)

// campaignFeed adds one hostile attempt of a source that is not bursting.
func (e *Engine) campaignFeed(p pendingFail, out []Finding) []Finding {
	c := e.cfg.SprayCampaign
	cs := &e.campaign
	if cs.srcs == nil {
		cs.srcs, cs.names = make(map[netip.Addr]int), make(map[string]int)
	}
	it := campItem{t: p.f.t, src: p.src, ip: p.ip, name: p.f.user, n: p.f.n, file: p.f.file, line: p.f.line, service: p.service}
	if it.name == "" {
		cs.unnamedSeq++
		it.name, it.unnamed = "\x00"+itoa(cs.unnamedSeq), true
	}
	cs.prune(p.f.t.Add(-c.Window))
	if len(cs.win)-cs.head >= maxCampaignWindow {
		cs.prune(cs.win[cs.head].t.Add(time.Nanosecond))
	}
	if cs.cur != nil && it.t.Sub(cs.cur.last) > c.Window {
		cs.cur = nil // the stretch ended: a later one is a new campaign
	}
	cs.win = append(cs.win, it)
	cs.srcs[it.src]++
	cs.names[it.name]++
	if len(cs.srcs) < c.Sources || len(cs.names) < c.Names {
		return out
	}
	fresh := cs.cur == nil
	if fresh {
		cs.opened++
		cs.cur = &campaign{id: "c" + itoa(cs.opened), first: cs.win[max(cs.head, cs.mark)].t,
			members: make(map[netip.Addr]*member), names: make(map[string]struct{}), services: make(map[string]struct{})}
		if cs.all == nil {
			cs.all = make(map[string]*campaign)
		}
		cs.all[cs.cur.id] = cs.cur
	}
	cur := cs.cur
	for i := max(cs.head, cs.mark); i < len(cs.win); i++ {
		out = e.join(cur, cs.win[i], out)
	}
	cs.mark = len(cs.win)
	return e.campaignFinding(cur, fail{t: it.t, n: it.n, file: it.file, line: it.line}, out)
}

// campaignFinding opens the finding of campaign cur in this run, if it
// has none yet (f is counted in the overflow finding when the rule is
// full).
func (e *Engine) campaignFinding(cur *campaign, f fail, out []Finding) []Finding {
	c := e.cfg.SprayCampaign
	k := aggKey{rule: RuleSprayCampaign, subject: cur.id}
	if e.findings[k] != nil {
		return out
	}
	if e.full(k.rule) {
		return e.overflow(k.rule, c.Severity, f.t, f, out)
	}
	a := e.open(k, c.Severity, input{t: cur.first}, false, nil)
	a.f.First, a.f.Last = cur.first, cur.last
	a.detail = e.campaignDetail(cur)
	a.msg = campaignMessage
	return append(out, e.snapshot(a))
}

// prune drops the window's items older than cut.
func (cs *campaignState) prune(cut time.Time) {
	for cs.head < len(cs.win) && cs.win[cs.head].t.Before(cut) {
		it := cs.win[cs.head]
		cs.win[cs.head] = campItem{}
		cs.head++
		if cs.srcs[it.src]--; cs.srcs[it.src] <= 0 {
			delete(cs.srcs, it.src)
		}
		if cs.names[it.name]--; cs.names[it.name] <= 0 {
			delete(cs.names, it.name)
		}
	}
	if cs.head > 0 && cs.head >= len(cs.win)/2 {
		n := copy(cs.win, cs.win[cs.head:])
		clear(cs.win[n:])
		cs.win = cs.win[:n]
		cs.mark = max(cs.mark-cs.head, 0)
		cs.head = 0
		// The counts are rebuilt too (O(1) per attempt over time, as
		// the copy above): a Go map never shrinks, and after a flood
		// they would keep its size.
		cs.srcs, cs.names = rebuilt(cs.srcs), rebuilt(cs.names)
	}
}

// join adds one attempt to cur and accuses its source. A source that
// brute-force accused is a burst, not a member: its attempts from before
// it burst stay out.
func (e *Engine) join(cur *campaign, it campItem, out []Finding) []Finding {
	if a := e.accused[it.src]; a != nil && a.rule == RuleBruteForce && cur.members[it.src] == nil {
		return out
	}
	m := cur.members[it.src]
	if m == nil && len(cur.members) < max(e.maxSources/5, 1) {
		m = &member{ip: sourceName(it.src), first: it.t, evidence: fail{file: it.file, line: it.line}.evidence()}
		if !it.src.Is6() {
			m.ip = it.ip
		}
		cur.members[it.src] = m
	}
	if m != nil {
		m.attempts += it.n
		m.last = it.t
	} else {
		// Past the bound the attempt still counts for the campaign (it
		// goes on) and its source is still accused; it is not listed.
		cur.notListed += it.n
	}
	cur.attempts += it.n
	if it.t.Before(cur.first) {
		cur.first = it.t
	}
	if it.t.After(cur.last) {
		cur.last = it.t
	}
	if it.service != "" {
		cur.services[it.service] = struct{}{}
	}
	if it.unnamed {
		if m != nil {
			m.unnamed++
		}
		cur.unnamed++
		cur.nameCount++
	} else {
		if m != nil && len(m.names) < maxMemberNames && !slices.Contains(m.names, it.name) {
			m.names = append(m.names, it.name)
		}
		if _, ok := cur.names[it.name]; !ok && len(cur.names) < maxCampaignNames {
			cur.names[it.name] = struct{}{}
			cur.nameCount++
		}
	}
	if a := e.findings[aggKey{rule: RuleSprayCampaign, subject: cur.id}]; a != nil {
		a.f.Count = cur.attempts
		a.f.First, a.f.Last = cur.first, cur.last
	}
	return e.accuse(it.src, RuleSprayCampaign, cur.id, it.t, out)
}

// memberSucceeded records that a member logged in as user.
func (e *Engine) memberSucceeded(src netip.Addr, user string) {
	if cur := e.campaign.cur; cur != nil {
		if m := cur.members[src]; m != nil && !slices.Contains(m.succeeded, user) && len(m.succeeded) < maxMemberNames {
			m.succeeded = append(m.succeeded, user)
		}
	}
}

// campaignDetail fills a campaign finding from cur on snapshot.
func (e *Engine) campaignDetail(cur *campaign) func(*agg) {
	return func(a *agg) {
		d := &Campaign{ID: cur.id, Attempts: cur.attempts, Names: cur.nameCount, Unnamed: cur.unnamed,
			NotTracked: cur.notListed}
		for u := range cur.names {
			ok, err := e.base.HasUser(u)
			e.setErr(err)
			if ok {
				d.Accounts++
			}
		}
		for s := range cur.services {
			d.Services = append(d.Services, s)
		}
		slices.Sort(d.Services)
		d.Members = make([]Member, 0, len(cur.members))
		for _, m := range cur.members {
			d.Members = append(d.Members, Member{Address: m.ip, Attempts: m.attempts, Names: len(m.names) + m.unnamed,
				Succeeded: slices.Clone(m.succeeded), Evidence: m.evidence, First: m.first, Last: m.last})
		}
		slices.SortFunc(d.Members, func(x, y Member) int {
			return cmp.Or(x.First.Compare(y.First), cmp.Compare(x.Address, y.Address))
		})
		a.f.Addresses = a.f.Addresses[:0]
		a.f.Evidence = a.f.Evidence[:0]
		for _, m := range d.Members {
			a.f.Addresses = append(a.f.Addresses, m.Address)
			if m.Evidence != "" {
				a.f.Evidence = append(a.f.Evidence, m.Evidence)
			}
		}
		a.f.RemoteIP, a.f.HasUser = "", false
		a.f.Count, a.f.First, a.f.Last = cur.attempts, cur.first, cur.last
		a.f.Campaign = d
	}
}

func campaignMessage(a *agg) string {
	d := a.f.Campaign
	succeeded := 0
	for _, m := range d.Members {
		if len(m.Succeeded) > 0 {
			succeeded++
		}
	}
	addrs := plural(len(d.Members), "address")
	if d.NotTracked > 0 {
		addrs = strings.Replace(addrs, " ", "+ ", 1) // more joined than are listed
	}
	names := plural(d.Names, "name")
	if d.Names-d.Unnamed >= maxCampaignNames {
		names = strings.Replace(names, " ", "+ ", 1) // the named ones are counted up to the cap
	}
	s := fmt.Sprintf("distributed password spray %s: %s from %s tried %s (%s, %s) over %s",
		d.ID, plural(d.Attempts, "hostile attempt"), addrs, names,
		plural(d.Accounts, "real account"), plural(d.Unnamed, "unnamed attempt"),
		human(a.f.Last.Sub(a.f.First).Round(time.Minute)))
	if len(d.Services) > 0 {
		s += " on " + strings.Join(d.Services, ", ")
	}
	if succeeded > 0 {
		s += fmt.Sprintf("; %s logged in: see account-compromise", plural(succeeded, "member"))
	}
	return s
}
