package rules

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/parse"
)

// hashed returns the auth detail line (with the SHA1 of the wrong password)
// and the login failure it comes with.
func (b *builder) hashed(user, ip, hash string, at time.Duration) []step {
	detail := with(b.fail(user, ip, at), func(e *parse.Event) { e.Kind = parse.KindAuth; e.PasswordHash = hash })
	return []step{detail, b.fail(user, ip, at)}
}

// TestPasswordHashSignal: with auth_verbose_passwords = sha1, one wrong
// password repeated is a device, several are guessing.
func TestPasswordHashSignal(t *testing.T) {
	var b builder
	series := func(user, ip string, n int, gap time.Duration, hash func(int) string) []step {
		var s []step
		for i := range n {
			s = append(s, b.hashed(user, ip, hash(i), time.Duration(i)*gap)...)
		}
		return s
	}
	runScenarios(t, []ruleCase{
		{name: "a phone on a new address repeating one wrong password is a stale device",
			// The first was attributed before the third showed the
			// repetition: 11 of the 12 count.
			steps: series("alice", "198.51.100.9", 12, 20*time.Minute, func(int) string { return "21bd12" }),
			want:  []string{"stale-credentials low alice 198.51.100.9 n=11"}},
		{name: "the same series with a new wrong password each time is guessing",
			steps: series("alice", "198.51.100.9", 12, 20*time.Minute, func(i int) string { return fmt.Sprintf("%06x", i) }),
			want:  []string{"brute-force low alice 198.51.100.9 n=12"}},
		{name: "three different wrong passwords before a login are no typo",
			steps: cat(series("alice", "198.51.100.9", 3, time.Minute, func(i int) string { return fmt.Sprintf("%06x", i) }),
				b.ok("alice", "198.51.100.9", 4*time.Minute, devDE)),
			want: []string{"success-after-failures high alice 198.51.100.9 n=4"}},
		{name: "a burst repeating one wrong password from a new address is still a device",
			steps: series("bob", "198.51.100.10", 15, 10*time.Second, func(int) string { return "abcdef" }),
			want:  []string{"stale-credentials low bob 198.51.100.10 n=15"}},
	})
}

// TestSharedGateway: a failure naming nobody is explained at once when it
// comes from some user's known address or the wide network (/16, IPv6
// /32) of one, and waits for attribution otherwise.
func TestSharedGateway(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"203.0.113.7", true},   // alice's address
		{"203.0.50.9", true},    // the /16 of it: a carrier's pool
		{"198.51.100.9", false}, // nobody's
		{"::ffff:203.0.113.7", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			e := NewEngine(DefaultConfig(), Options{Baseline: learned(t)})
			addr := netip.MustParseAddr(tt.addr).Unmap()
			in := input{t: t0, addr: addr, src: sourceKey(addr), ip: e.addrString(addr), o: devDE}
			if got := e.sharedGateway(in); got != tt.want {
				t.Errorf("sharedGateway = %v, want %v", got, tt.want)
			}
		})
	}
}
