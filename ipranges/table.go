package ipranges

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/yl2chen/cidranger"
)

// A Table holds labelled prefixes and finds every label whose prefix
// contains an address. It wraps the radix tree so that the implementation
// (today github.com/yl2chen/cidranger) can be swapped in this file alone.
//
// The zero Table is not usable; create one with NewTable. Insert must not be
// called concurrently with anything else; Lookup may be called concurrently
// once all inserts are done.
type Table struct {
	r       cidranger.Ranger
	entries map[netip.Prefix]*tableEntry
}

// tableEntry is the value stored in the tree: one prefix, all its labels.
type tableEntry struct {
	n      net.IPNet
	labels []Label
}

// Network implements cidranger.RangerEntry.
func (e *tableEntry) Network() net.IPNet { return e.n }

// NewTable returns an empty Table.
func NewTable() *Table {
	return &Table{r: cidranger.NewPCTrieRanger(), entries: make(map[netip.Prefix]*tableEntry)}
}

// normalize unmaps an IPv4-mapped prefix and masks the host bits. It
// reports false for prefixes the table cannot hold.
func normalize(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// Narrowest list entries outside the built-in table: a broader prefix
// (0.0.0.0/0 labelled an intermediary) would exempt a quarter of the
// Internet or more from the attack rules.
const (
	minBits4 = 8
	minBits6 = 16
)

// tooBroad says a list entry covers more than minBits4 or minBits6
// allow.
func tooBroad(p netip.Prefix) error {
	switch {
	case p.Addr().Is4() && p.Bits() < minBits4:
		return fmt.Errorf("broader than /%d (a list entry may not cover that much of the Internet)", minBits4)
	case p.Addr().Is6() && p.Bits() < minBits6:
		return fmt.Errorf("broader than /%d (a list entry may not cover that much of the Internet)", minBits6)
	}
	return nil
}

// Insert adds l under prefix p. IPv4-mapped IPv6 prefixes are stored as
// IPv4 and host bits are cleared; a prefix may carry several labels.
func (t *Table) Insert(p netip.Prefix, l Label) error {
	np, ok := normalize(p)
	if !ok {
		return fmt.Errorf("prefix %s cannot be stored", p)
	}
	if e, ok := t.entries[np]; ok {
		e.labels = append(e.labels, l)
		return nil
	}
	e := &tableEntry{
		n:      net.IPNet{IP: net.IP(np.Addr().AsSlice()), Mask: net.CIDRMask(np.Bits(), np.Addr().BitLen())},
		labels: []Label{l},
	}
	if err := t.r.Insert(e); err != nil {
		return fmt.Errorf("prefix %s: %w", np, err)
	}
	t.entries[np] = e
	return nil
}

// Lookup appends to dst the labels of every prefix containing addr (not
// only the longest match), least specific first, and returns the extended
// slice. An IPv4-mapped address is looked up as IPv4.
func (t *Table) Lookup(addr netip.Addr, dst []Label) []Label {
	addr = addr.Unmap()
	if !addr.IsValid() || t == nil || len(t.entries) == 0 {
		return dst
	}
	hits, err := t.r.ContainingNetworks(net.IP(addr.AsSlice()))
	if err != nil {
		return dst
	}
	for _, h := range hits {
		if e, ok := h.(*tableEntry); ok {
			dst = append(dst, e.labels...)
		}
	}
	return dst
}

// Len returns the number of distinct prefixes in t.
func (t *Table) Len() int { return len(t.entries) }
