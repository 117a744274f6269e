package rules

import (
	"net/netip"
	"strings"

	"github.com/mailaudit/mailaudit/parse"
)

// maxClients bounds the client names the Engine remembers by session
// while it waits for the session's login: the oldest is dropped first.
const maxClients = 1 << 16

// clientSeen is the program a connection named (IMAP ID) before logging in.
type clientSeen struct {
	name string     // lower case
	addr netip.Addr // the connection's address, unmapped
	seq  uint64     // which remember call stored it
}

// clientSlot is one entry of the eviction ring.
type clientSlot struct {
	session string
	seq     uint64
}

// clientMemory remembers client names per Dovecot session, at most max,
// dropping the oldest. The zero value is ready (with maxClients).
type clientMemory struct {
	m    map[string]clientSeen
	ring []clientSlot
	head int // the oldest slot once the ring is full
	seq  uint64
	max  int // 0: maxClients
}

// remember stores the client name of a KindClient event by its session.
// Events without a session, address or name are not remembered.
func (c *clientMemory) remember(ev parse.Event) {
	name := strings.ToLower(strings.TrimSpace(ev.Client))
	if ev.Session == "" || name == "" || !ev.Addr.IsValid() {
		return
	}
	limit := c.max
	if limit <= 0 {
		limit = maxClients
	}
	if c.m == nil {
		c.m = make(map[string]clientSeen)
	}
	c.seq++
	slot := clientSlot{session: ev.Session, seq: c.seq}
	if len(c.ring) < limit {
		c.ring = append(c.ring, slot)
	} else {
		old := c.ring[c.head]
		if s, ok := c.m[old.session]; ok && s.seq == old.seq {
			delete(c.m, old.session)
		}
		c.ring[c.head] = slot
		c.head = (c.head + 1) % limit
	}
	c.m[ev.Session] = clientSeen{name: name, addr: ev.Addr.Unmap().WithZone(""), seq: c.seq}
}

// take returns and forgets the client name remembered for session, if the
// connection that named it had the address addr: a session id alone,
// copied into another line, must not lend a login its client.
func (c *clientMemory) take(session string, addr netip.Addr) (string, bool) {
	if session == "" {
		return "", false
	}
	s, ok := c.m[session]
	if !ok {
		return "", false
	}
	delete(c.m, session)
	if s.addr != addr {
		return "", false
	}
	return s.name, true
}

// withClient returns devs with the client facet of the login's session
// added, when its connection named a client; devs itself is not changed
// (it may be memoized).
func (e *Engine) withClient(devs []Device, in input) []Device {
	name, ok := e.clients.take(in.ev.Session, in.addr)
	if !ok {
		return devs
	}
	out := make([]Device, len(devs), len(devs)+1)
	copy(out, devs)
	return append(out, Device{FacetClient, name})
}
