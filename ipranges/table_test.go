package ipranges

import (
	"net/netip"
	"strings"
	"testing"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTable(t *testing.T) {
	tbl := NewTable()
	for _, e := range []struct{ p, name string }{
		{"40.96.0.0/13", "wide"},
		{"40.99.0.0/16", "narrow"},
		{"40.99.0.0/16", "narrow-too"},    // same prefix, second label
		{"40.99.10.77/16", "host-bits"},   // masked to 40.99.0.0/16
		{"::ffff:10.0.0.0/104", "mapped"}, // stored as 10.0.0.0/8
		{"2603:1026::/36", "v6"},
	} {
		if err := tbl.Insert(netip.MustParsePrefix(e.p), Label{Name: e.name}); err != nil {
			t.Fatal(err)
		}
	}
	if tbl.Len() != 4 {
		t.Errorf("Len %d, want 4", tbl.Len())
	}
	if err := tbl.Insert(netip.MustParsePrefix("::ffff:0:0/90"), Label{}); err == nil {
		t.Error("IPv4-mapped prefix shorter than /96 accepted")
	}
	tests := []struct{ ip, want string }{
		{"40.99.10.10", "wide narrow narrow-too host-bits"},
		{"::ffff:40.99.10.10", "wide narrow narrow-too host-bits"},
		{"40.97.0.1", "wide"},
		{"41.0.0.1", ""},
		{"10.9.9.9", "mapped"},
		{"::ffff:10.9.9.9", "mapped"},
		{"2603:1026:c0b::12", "v6"},
		{"2603:1027::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			var names []string
			for _, l := range tbl.Lookup(mustAddr(tt.ip), nil) {
				names = append(names, l.Name)
			}
			if got := strings.Join(names, " "); got != tt.want {
				t.Errorf("Lookup(%s) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
	if got := tbl.Lookup(netip.Addr{}, nil); got != nil {
		t.Errorf("Lookup(invalid) = %v", got)
	}
}
