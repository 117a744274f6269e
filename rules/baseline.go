package rules

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// Facet is one aspect of where a login came from that a Baseline learns.
type Facet string

// The facets, as stored in a baseline.
const (
	FacetAddress Facet = "address" // the address itself, e.g. "203.0.113.7"
	FacetNetwork Facet = "network" // its /24 or /48, e.g. "203.0.113.0/24"
	FacetASN     Facet = "asn"     // its autonomous system, e.g. "AS8075"
	FacetCountry Facet = "country" // its ISO country code, e.g. "DE"
	// FacetWide is the address's /16 (IPv6: /32): a mobile carrier's or
	// an ISP's pool, where a phone's addresses rotate. It explains only a
	// user's own failures (named), and is never reported by default.
	FacetWide Facet = "wide"
	// FacetProvider is the cloud intermediary a user logs in through,
	// e.g. "microsoft": learned instead of the provider's shared
	// addresses, whose failures it explains.
	FacetProvider Facet = "provider"
	// FacetClient is the program the login's connection named with IMAP
	// ID (Dovecot imap_id_log), lower case, e.g. "thunderbird". It is
	// client-chosen text: learned when present, and reported as new only
	// when new_device.report lists it. Devices never returns it.
	FacetClient Facet = "client"
)

func (f Facet) valid() bool {
	switch f {
	case FacetAddress, FacetNetwork, FacetASN, FacetCountry, FacetProvider, FacetWide, FacetClient:
		return true
	}
	return false
}

// Device is one facet of a login's origin. Values are self-describing
// (an address, a CIDR, "AS" and a number, a two-letter country code), so a
// value alone names a device when forgetting it.
type Device struct {
	Facet Facet  // which aspect
	Value string // its canonical spelling, as Devices returns it
}

// String returns "facet value".
func (d Device) String() string { return string(d.Facet) + " " + d.Value }

// Devices returns the facets of a login from addr with origin o: the
// address, its network (ipv4Bits or ipv6Bits long), its wide network (/16,
// IPv6 /32) when wider than that, and the ASN and country when o knows
// them, in that order.
func Devices(addr netip.Addr, o ipranges.Origin, ipv4Bits, ipv6Bits int) []Device {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return nil
	}
	bits := ipv6Bits
	if addr.Is4() {
		bits = ipv4Bits
	}
	ds := make([]Device, 0, 4)
	ds = append(ds, Device{FacetAddress, addr.WithZone("").String()})
	if p, err := addr.WithZone("").Prefix(bits); err == nil {
		ds = append(ds, Device{FacetNetwork, p.String()})
	}
	if w, ok := wideNetwork(addr, bits); ok {
		ds = append(ds, w)
	}
	if o.ASN != 0 {
		ds = append(ds, Device{FacetASN, fmt.Sprintf("AS%d", o.ASN)})
	}
	if c := strings.ToUpper(strings.TrimSpace(o.Country)); c != "" {
		ds = append(ds, Device{FacetCountry, c})
	}
	return ds
}

// wideNetwork returns the wide facet of addr (unmapped): its /16, IPv6
// /32, when that is wider than the network of bits.
func wideNetwork(addr netip.Addr, bits int) (Device, bool) {
	wide := 32
	if addr.Is4() {
		wide = 16
	}
	p, err := addr.WithZone("").Prefix(wide)
	if err != nil || wide >= bits {
		return Device{}, false
	}
	return Device{FacetWide, p.String()}, true
}

// Baseline remembers the devices each user logged in from successfully,
// across runs. It is what new-device compares against and what explains a
// user's failures from familiar places. Implementations must treat user
// names as opaque bytes.
type Baseline interface {
	// Known reports whether d was learned for user.
	Known(user string, d Device) (bool, error)
	// KnownAnywhere reports whether d was learned for any user: a shared
	// gateway whose unnamed failures are somebody's typos.
	KnownAnywhere(d Device) (bool, error)
	// HasUser reports whether anything was learned for user.
	HasUser(user string) (bool, error)
	// Since returns the event time of user's first learned login and the
	// number of logins learned (of the address facet); zero when none.
	Since(user string) (first time.Time, logins int64, err error)
	// Learn records a successful login of user from d at t (event time).
	Learn(user string, d Device, t time.Time) error
	// Quarantine keeps d out of user's learned devices: a login from d
	// raised a finding of severity high or above (rule). A d learned
	// before is removed. "baseline confirm" learns it after all.
	Quarantine(user string, d Device, t time.Time, rule string) error
}

// MemoryBaseline is a Baseline that lives for one run. The zero value is
// not ready: use NewMemoryBaseline. It is not safe for concurrent use.
type MemoryBaseline struct {
	m map[string]*memUser
	// any counts how many users know each address and wide network (the
	// facets KnownAnywhere is asked about; others are looked up in m), by
	// value: the two spellings never collide (a wide network has a "/").
	any map[string]int32
	// last is the user looked up last (a login asks about each of its
	// facets in turn), lastName its name.
	last     *memUser
	lastName string
	// Quarantined lists what Quarantine kept out, in call order.
	Quarantined []QuarantineEntry
}

// memUser is what a MemoryBaseline learned of one user.
type memUser struct {
	devs     devSet
	first    time.Time // the first login learned, when hasFirst
	hasFirst bool
	n        int64 // logins learned (address and provider facets)
}

// QuarantineEntry is one device kept out of a user's baseline.
type QuarantineEntry struct {
	User string
	Dev  Device
	Time time.Time
	Rule string
}

// NewMemoryBaseline returns an empty MemoryBaseline.
func NewMemoryBaseline() *MemoryBaseline {
	return &MemoryBaseline{m: make(map[string]*memUser), any: make(map[string]int32)}
}

// user returns what was learned of name, nil if nothing.
func (b *MemoryBaseline) user(name string) *memUser {
	if b.last != nil && b.lastName == name {
		return b.last
	}
	u := b.m[name]
	if u != nil {
		b.last, b.lastName = u, name
	}
	return u
}

// Known reports whether d was learned for user.
func (b *MemoryBaseline) Known(user string, d Device) (bool, error) {
	u := b.user(user)
	if u == nil {
		return false, nil
	}
	return u.devs.has(d), nil
}

// countedAnywhere reports whether any counts d's facet.
func countedAnywhere(f Facet) bool { return f == FacetAddress || f == FacetWide }

// KnownAnywhere reports whether any user learned d: at once for an
// address or a wide network, by looking at every user for other facets.
func (b *MemoryBaseline) KnownAnywhere(d Device) (bool, error) {
	if countedAnywhere(d.Facet) {
		return b.any[d.Value] > 0, nil
	}
	for _, u := range b.m {
		if u.devs.has(d) {
			return true, nil
		}
	}
	return false, nil
}

// HasUser reports whether anything was learned for user.
func (b *MemoryBaseline) HasUser(user string) (bool, error) {
	u := b.user(user)
	return u != nil && u.devs.len() > 0, nil
}

// Since returns user's first learned login time and login count.
func (b *MemoryBaseline) Since(user string) (time.Time, int64, error) {
	u := b.user(user)
	if u == nil {
		return time.Time{}, 0, nil
	}
	return u.first, u.n, nil
}

// Learn records d for user.
func (b *MemoryBaseline) Learn(user string, d Device, t time.Time) error {
	u := b.user(user)
	if u == nil {
		u = &memUser{}
		b.m[user] = u
		b.last, b.lastName = u, user
	}
	if u.devs.add(d) && countedAnywhere(d.Facet) {
		b.any[d.Value]++
	}
	if d.Facet == FacetAddress || d.Facet == FacetProvider {
		u.n++
		if !t.IsZero() && (!u.hasFirst || u.first.IsZero() || t.Before(u.first)) {
			u.first, u.hasFirst = t, true
		}
	}
	return nil
}

// Quarantine removes d from user's devices and records it.
func (b *MemoryBaseline) Quarantine(user string, d Device, t time.Time, rule string) error {
	if u := b.user(user); u != nil && u.devs.remove(d) && countedAnywhere(d.Facet) {
		if b.any[d.Value]--; b.any[d.Value] <= 0 {
			delete(b.any, d.Value)
		}
	}
	b.Quarantined = append(b.Quarantined, QuarantineEntry{user, d, t, rule})
	return nil
}

// devSet is a set of devices. Most users have a few: they are packed in
// one byte slice (a facet code, the value's length, the value; about 17
// bytes for an address instead of a 32-byte Device and its string), up
// to fewDevices; with more, or a device of a facet without a code, all
// of them are in a map instead.
type devSet struct {
	packed []byte
	n      int // devices in packed
	many   map[Device]struct{}
}

const fewDevices = 8

// packedFacets are the facets that can be packed; a facet's code is its
// index + 1.
var packedFacets = [...]Facet{FacetAddress, FacetNetwork, FacetWide, FacetASN, FacetCountry, FacetProvider, FacetClient}

func facetCode(f Facet) byte {
	for i, x := range packedFacets {
		if x == f {
			return byte(i + 1)
		}
	}
	return 0
}

func (s *devSet) len() int { return s.n + len(s.many) }

// find returns the offset of d's entry in packed and its length, or -1.
func (s *devSet) find(d Device) (int, int) {
	code := facetCode(d.Facet)
	if code == 0 {
		return -1, 0
	}
	for i := 0; i < len(s.packed); {
		n, w := uint64(s.packed[i+1]), 1 // values are short: one length byte
		if n >= 0x80 {
			n, w = binary.Uvarint(s.packed[i+1:])
		}
		start := i + 1 + w
		end := start + int(n)
		if s.packed[i] == code && string(s.packed[start:end]) == d.Value {
			return i, end - i
		}
		i = end
	}
	return -1, 0
}

func (s *devSet) has(d Device) bool {
	if s.many != nil {
		_, ok := s.many[d]
		return ok
	}
	i, _ := s.find(d)
	return i >= 0
}

// add adds d and reports whether it is new.
func (s *devSet) add(d Device) bool {
	if s.has(d) {
		return false
	}
	code := facetCode(d.Facet)
	switch {
	case s.many != nil:
		s.many[d] = struct{}{}
		return true
	case code == 0 || s.n >= fewDevices:
		// A user of many devices: all of them in the map, so that a look-up
		// is one probe rather than a scan of the packed ones first.
		s.many = make(map[Device]struct{}, s.n+1)
		for i := 0; i < len(s.packed); {
			n, w := binary.Uvarint(s.packed[i+1:])
			start := i + 1 + w
			end := start + int(n)
			s.many[Device{packedFacets[s.packed[i]-1], string(s.packed[start:end])}] = struct{}{}
			i = end
		}
		s.packed, s.n = nil, 0
		s.many[d] = struct{}{}
		return true
	}
	if s.packed == nil {
		s.packed = make([]byte, 0, 64) // a login teaches 3 to 5 facets
	}
	s.packed = append(s.packed, code)
	s.packed = binary.AppendUvarint(s.packed, uint64(len(d.Value)))
	s.packed = append(s.packed, d.Value...)
	s.n++
	return true
}

// remove removes d and reports whether it was there.
func (s *devSet) remove(d Device) bool {
	if i, n := s.find(d); i >= 0 {
		s.packed = append(s.packed[:i], s.packed[i+n:]...)
		s.n--
		return true
	}
	if _, ok := s.many[d]; ok {
		delete(s.many, d)
		return true
	}
	return false
}
