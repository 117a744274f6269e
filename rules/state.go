package rules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// StateVersion is the format of MarshalState.
const StateVersion = 1

// The saved attack state: what a run hands to the next one, so that a day
// run as many cron runs judges as one pass does. Findings are not saved:
// each run reports what its events raised.
type savedState struct {
	Now        time.Time      `json:"now"`
	Pending    []savedPending `json:"pending"`
	Sources    []savedSource  `json:"sources"`
	Pairs      []savedPair    `json:"pairs"`
	Users      []savedUser    `json:"users"`
	Accused    []savedAccused `json:"accused"`
	Campaign   savedCampaign  `json:"campaign"`
	NotTracked int            `json:"not_tracked"`
}

type savedFail struct {
	T    time.Time `json:"t"`
	User string    `json:"u,omitempty"`
	Key  string    `json:"k,omitempty"` // read only: see loadWindow
	N    int       `json:"n"`
	File string    `json:"f,omitempty"`
	Line int       `json:"l,omitempty"`
	IP   string    `json:"ip,omitempty"`
}

type savedPending struct {
	F       savedFail       `json:"f"`
	Src     netip.Addr      `json:"src"`
	IP      string          `json:"ip"`
	Origin  ipranges.Origin `json:"o"`
	Service string          `json:"svc,omitempty"`
	Done    bool            `json:"done,omitempty"`
}

type savedLogin struct {
	User    string          `json:"u"`
	T       time.Time       `json:"t"`
	File    string          `json:"f,omitempty"`
	Line    int             `json:"l,omitempty"`
	IP      string          `json:"ip"`
	Origin  ipranges.Origin `json:"o"`
	Learned []Device        `json:"learned,omitempty"`
	SASL    bool            `json:"sasl,omitempty"`
}

type savedSource struct {
	Key       netip.Addr           `json:"key"`
	LastSeen  time.Time            `json:"seen"`
	Burst     []savedFail          `json:"burst,omitempty"`
	Day       []savedFail          `json:"day,omitempty"`
	Hostile   int                  `json:"hostile,omitempty"`
	Named     int                  `json:"named,omitempty"`
	Tried     []string             `json:"tried,omitempty"`
	LastOK    time.Time            `json:"last_ok"`
	OwnAt     time.Time            `json:"own_at"`
	OKUsers   map[string]time.Time `json:"ok_users,omitempty"`
	Tolerated int                  `json:"tolerated,omitempty"`
	TolFrom   time.Time            `json:"tol_from"`
	Recent    []savedLogin         `json:"recent,omitempty"`
}

type savedPair struct {
	Src      netip.Addr  `json:"src"`
	User     string      `json:"u"`
	All      []savedFail `json:"all,omitempty"`
	Familiar []savedFail `json:"familiar,omitempty"`
}

type savedUser struct {
	User     string      `json:"u"`
	Dist     []savedFail `json:"dist,omitempty"`
	LastT    time.Time   `json:"last_t"`
	LastCC   string      `json:"last_cc,omitempty"`
	LastAddr string      `json:"last_addr,omitempty"`
	HasLast  bool        `json:"has_last,omitempty"`
}

type savedAccused struct {
	Src      netip.Addr `json:"src"`
	Rule     string     `json:"rule"`
	Campaign string     `json:"campaign,omitempty"`
	At       time.Time  `json:"at"`
	Until    time.Time  `json:"until"`
}

type savedCampItem struct {
	T       time.Time  `json:"t"`
	Src     netip.Addr `json:"src"`
	IP      string     `json:"ip"`
	Name    string     `json:"name"`
	Unnamed bool       `json:"unnamed,omitempty"`
	N       int        `json:"n"`
	File    string     `json:"f,omitempty"`
	Line    int        `json:"l,omitempty"`
	Service string     `json:"svc,omitempty"`
}

type savedMember struct {
	Src       netip.Addr `json:"src"`
	IP        string     `json:"ip"`
	Attempts  int        `json:"attempts"`
	Names     []string   `json:"names,omitempty"`
	Unnamed   int        `json:"unnamed,omitempty"`
	Succeeded []string   `json:"succeeded,omitempty"`
	Evidence  string     `json:"evidence,omitempty"`
	First     time.Time  `json:"first"`
	Last      time.Time  `json:"last"`
}

type savedCampaignRun struct {
	ID        string        `json:"id"`
	First     time.Time     `json:"first"`
	Last      time.Time     `json:"last"`
	Members   []savedMember `json:"members"`
	Names     []string      `json:"names,omitempty"`
	NameCount int           `json:"name_count"`
	Attempts  int           `json:"attempts"`
	Unnamed   int           `json:"unnamed"`
	Services  []string      `json:"services,omitempty"`
	NotListed int           `json:"not_listed,omitempty"`
}

type savedCampaign struct {
	Window []savedCampItem   `json:"window,omitempty"`
	Added  int               `json:"added"` // window items already in Cur
	Cur    *savedCampaignRun `json:"cur,omitempty"`
	// Closed are the campaigns of the last day that ended.
	Closed     []*savedCampaignRun `json:"closed,omitempty"`
	Opened     int                 `json:"opened"`
	UnnamedSeq int                 `json:"unnamed_seq"`
}

func saveWindow(w *window) []savedFail { return saveFails(w.live()) }

func saveFails(live []fail) []savedFail {
	if len(live) == 0 {
		return nil
	}
	out := make([]savedFail, len(live))
	for i, f := range live {
		out[i] = savedFail{T: f.t, User: f.user, N: f.n, File: f.file, Line: f.line, IP: f.ip}
	}
	return out
}

// loadWindow adds the saved items to w. States saved by earlier versions
// kept a distinct-counting window's key in Key ("k").
func loadWindow(w *window, items []savedFail) {
	for _, s := range items {
		ip := s.IP
		if w.distinct != nil && s.Key != "" {
			ip = s.Key
		}
		w.add(fail{t: s.T, user: s.User, n: max(s.N, 1), file: s.File, line: s.Line, ip: ip})
	}
}

func setKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// MarshalState returns the Engine's attack state: the failures waiting
// for attribution, the per-source windows and logins, the accused sources,
// the campaign window and the open campaign. A later Engine continues from
// it with UnmarshalState. Its size is bounded by the Engine's bounds.
func (e *Engine) MarshalState() ([]byte, error) {
	var b bytes.Buffer
	if err := e.WriteState(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteState writes what MarshalState returns to w, one record at a
// time: a state of many sources is never held twice in memory.
func (e *Engine) WriteState(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	var err error
	put := func(s string) {
		if err == nil {
			_, err = bw.WriteString(s)
		}
	}
	val := func(v any) {
		if err == nil {
			err = enc.Encode(v)
		}
	}
	// list writes `,"name":[` the items `]`; item(i) encodes the i-th.
	list := func(name string, n int, item func(i int)) {
		put(`,"` + name + `":[`)
		for i := range n {
			if i > 0 {
				put(",")
			}
			item(i)
		}
		put("]")
	}
	put(`{"now":`)
	val(e.now)
	list("pending", e.pending.len(), func(i int) {
		p := e.pending.at(i)
		f := p.f
		val(savedPending{savedFail{T: f.t, User: f.user, N: f.n, File: f.file, Line: f.line, IP: f.ip}, p.src, p.ip, p.o, p.service, p.done})
	})
	put(`,"sources":[`)
	first := true
	for k, s := range e.sources {
		ss := savedSource{Key: k, LastSeen: s.lastSeen, Burst: saveFails(s.burst()), Day: saveWindow(&s.day),
			Hostile: s.hostile, Named: s.named, Tried: s.tried.keys(), LastOK: s.lastOK, OwnAt: s.ownAt, OKUsers: savedOK(s.okUsers),
			Tolerated: s.tolerated, TolFrom: s.tolFrom}
		for _, r := range s.recent {
			ss.Recent = append(ss.Recent, savedLogin{r.user, r.t, r.file, r.line, r.ip, r.o, r.learned, r.sasl})
		}
		if !first {
			put(",")
		}
		first = false
		val(ss)
	}
	put(`],"pairs":[`)
	first = true
	for k, p := range e.pairs {
		if !first {
			put(",")
		}
		first = false
		val(savedPair{k.src, k.user, saveWindow(&p.all), saveWindow(&p.familiar)})
	}
	put(`],"users":[`)
	first = true
	for name, u := range e.users {
		if !first {
			put(",")
		}
		first = false
		val(savedUser{name, saveWindow(&u.dist), u.lastT, u.lastCC, u.lastAddr, u.hasLastLog})
	}
	put(`],"accused":[`)
	first = true
	for k, a := range e.accused {
		if !first {
			put(",")
		}
		first = false
		val(savedAccused{k, a.rule, a.campaign, a.at, a.until})
	}
	put(`],"campaign":`)
	val(e.saveCampaign())
	put(`,"not_tracked":`)
	val(e.notTracked)
	put("}")
	if err != nil {
		return fmt.Errorf("rules state: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("rules state: %w", err)
	}
	return nil
}

// saveCampaign returns the campaign window and the campaigns of the last
// day, for WriteState.
func (e *Engine) saveCampaign() savedCampaign {
	cs := &e.campaign
	sc := savedCampaign{Opened: cs.opened, UnnamedSeq: cs.unnamedSeq, Added: max(cs.mark-cs.head, 0)}
	for _, it := range cs.win[cs.head:] {
		sc.Window = append(sc.Window, savedCampItem{it.t, it.src, it.ip, it.name, it.unnamed, it.n, it.file, it.line, it.service})
	}
	// The open campaign, and those of the last day: a member that turns
	// out to be a user's device leaves them in a later run.
	ids := make([]string, 0, len(cs.all))
	for id, c := range cs.all {
		if c == cs.cur || !c.last.Before(e.now.Add(-24*time.Hour)) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := cs.all[id]
		r := &savedCampaignRun{ID: c.id, First: c.first, Last: c.last, Names: setKeys(c.names), NameCount: c.nameCount,
			Attempts: c.attempts, Unnamed: c.unnamed, Services: setKeys(c.services), NotListed: c.notListed}
		for k, m := range c.members {
			r.Members = append(r.Members, savedMember{k, m.ip, m.attempts, m.names, m.unnamed, m.succeeded, m.evidence, m.first, m.last})
		}
		if c == cs.cur {
			sc.Cur = r
		} else {
			sc.Closed = append(sc.Closed, r)
		}
	}
	return sc
}

// UnmarshalState restores the attack state MarshalState returned into an
// Engine that has seen no event yet.
func (e *Engine) UnmarshalState(data []byte) error { return e.ReadState(bytes.NewReader(data)) }

// ReadState restores the attack state WriteState wrote into an Engine that
// has seen no event yet.
func (e *Engine) ReadState(r io.Reader) error {
	var st savedState
	dec := json.NewDecoder(r)
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("rules state: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("rules state: data after the state")
	}
	e.now = st.Now
	e.notTracked = st.NotTracked
	for _, p := range st.Pending {
		if !p.Src.IsValid() {
			return fmt.Errorf("rules state: a waiting failure without a source")
		}
		f := fail{t: p.F.T, user: p.F.User, n: max(p.F.N, 1), file: p.F.File, line: p.F.Line, ip: p.F.IP}
		e.pending.push(pendingFail{f, p.Src, p.IP, p.Origin, p.Service, p.Done})
	}
	for _, ss := range st.Sources {
		if len(e.sources) >= e.maxSources {
			e.notTracked++
			continue
		}
		s := &source{lastSeen: ss.LastSeen, hostile: ss.Hostile, named: ss.Named, lastOK: ss.LastOK, ownAt: ss.OwnAt, okUsers: loadedOK(ss.OKUsers),
			tolerated: ss.Tolerated, tolFrom: ss.TolFrom}
		loadWindow(&s.day, ss.Day)
		// The burst is the newest of the day's attempts.
		s.burstN, s.burstSum = min(len(ss.Burst), s.day.len()), 0
		for _, f := range s.burst() {
			s.burstSum += f.n
		}
		for _, u := range ss.Tried {
			s.addTried(u)
		}
		for _, r := range ss.Recent {
			s.recent = append(s.recent, recentLogin{r.User, r.T, r.File, r.Line, r.IP, r.Origin, r.Learned, r.SASL})
		}
		e.sources[ss.Key] = s
	}
	for i := range e.pending.len() {
		if p := e.pending.at(i); !p.done {
			if s := e.sources[p.src]; s != nil {
				s.pending++
			}
		}
	}
	for _, sp := range st.Pairs {
		p := &pairState{}
		loadWindow(&p.all, sp.All)
		loadWindow(&p.familiar, sp.Familiar)
		p.active = maxTime(p.all.lastOf(), p.familiar.lastOf()).UnixNano()
		e.pairs[pairKey{sp.Src, sp.User}] = p
	}
	for _, su := range st.Users {
		u := &userState{lastT: su.LastT, lastCC: su.LastCC, lastAddr: su.LastAddr, hasLastLog: su.HasLast}
		u.dist.distinct = &u.sources
		loadWindow(&u.dist, su.Dist)
		u.active = maxTime(u.lastT, u.dist.lastOf()).UnixNano()
		e.users[su.User] = u
	}
	for _, a := range st.Accused {
		e.accused[a.Src] = &accusation{a.Rule, a.Campaign, a.At, a.Until}
		e.noteOwnAccused(a.Src)
	}
	cs := &e.campaign
	cs.srcs, cs.names = make(map[netip.Addr]int), make(map[string]int)
	cs.opened, cs.unnamedSeq = st.Campaign.Opened, st.Campaign.UnnamedSeq
	for _, it := range st.Campaign.Window {
		cs.win = append(cs.win, campItem{it.T, it.Src, it.IP, it.Name, it.Unnamed, max(it.N, 1), it.File, it.Line, it.Service})
		cs.srcs[it.Src]++
		cs.names[it.Name]++
	}
	cs.mark = min(max(st.Campaign.Added, 0), len(cs.win))
	cs.all = make(map[string]*campaign)
	for _, r := range append(st.Campaign.Closed, st.Campaign.Cur) {
		if r == nil {
			continue
		}
		c := &campaign{id: r.ID, first: r.First, last: r.Last, members: make(map[netip.Addr]*member),
			names: make(map[string]struct{}), nameCount: r.NameCount, attempts: r.Attempts, unnamed: r.Unnamed,
			services: make(map[string]struct{}), notListed: r.NotListed}
		for _, n := range r.Names {
			c.names[n] = struct{}{}
		}
		for _, s := range r.Services {
			c.services[s] = struct{}{}
		}
		for _, m := range r.Members {
			mm := &member{ip: m.IP, attempts: m.Attempts, unnamed: m.Unnamed, succeeded: m.Succeeded,
				evidence: m.Evidence, first: m.First, last: m.Last}
			mm.names = m.Names[:min(len(m.Names), maxMemberNames)]
			c.members[m.Src] = mm
		}
		if r == st.Campaign.Cur {
			cs.cur = c
		}
		cs.all[c.id] = c
	}
	return nil
}

func savedOK(us []userSeen) map[string]time.Time {
	if len(us) == 0 {
		return nil
	}
	m := make(map[string]time.Time, len(us))
	for _, u := range us {
		m[u.user] = u.t
	}
	return m
}

// loadedOK returns the saved users by name (an order that does not
// depend on the map's).
func loadedOK(m map[string]time.Time) []userSeen {
	var us []userSeen
	for u, t := range m {
		us = append(us, userSeen{u, t})
	}
	slices.SortFunc(us, func(a, b userSeen) int { return strings.Compare(a.user, b.user) })
	if len(us) > maxOKUsers {
		us = us[:maxOKUsers]
	}
	return us
}
