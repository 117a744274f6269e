package loggen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"time"
)

// A Stress names a worst case for memory that WriteStress writes.
type Stress string

const (
	// Hostile is failed logins, each with a distinct random user name from
	// a distinct random address: attacker-chosen names, nothing repeats.
	Hostile Stress = "hostile"
	// Crowd is successful logins of distinct users, each from an address
	// of its own: a large provider's day.
	Crowd Stress = "crowd"
)

// WriteStress writes n Dovecot login lines of the given kind to w, one per
// 25 ms from start, as RFC 3164 syslog lines. The
// same seed gives the same lines. IPv4 addresses are random public-looking
// ones; every tenth line is IPv6.
func WriteStress(w io.Writer, kind Stress, n int, seed int64, start time.Time) error {
	if kind != Hostile && kind != Crowd {
		return fmt.Errorf("loggen: unknown stress %q (want %q or %q)", kind, Hostile, Crowd)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x7374726573732121))
	bw := bufio.NewWriterSize(w, 64<<10)
	t := start
	svcs := [...]string{"imap", "imap", "pop3", "submission"}
	for i := range n {
		t = t.Add(25 * time.Millisecond)
		var ip netip.Addr
		if i%10 == 9 {
			var a [16]byte
			a[0], a[1] = 0x2a, 0x0
			for j := 2; j < 16; j++ {
				a[j] = byte(r.IntN(256))
			}
			ip = netip.AddrFrom16(a)
		} else {
			ip = netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		}
		svc := svcs[r.IntN(len(svcs))]
		var err error
		switch kind {
		case Hostile:
			_, err = fmt.Fprintf(bw, "%s mx1 dovecot: %s-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<%012x>, method=PLAIN, rip=%s, lip=198.51.100.25, TLS, session=<%016x>\n",
				t.Format(time.Stamp), svc, r.Uint64()&0xffffffffffff, ip, r.Uint64())
		case Crowd:
			_, err = fmt.Fprintf(bw, "%s mx1 dovecot: %s-login: Login: user=<u%07d@example.org>, method=PLAIN, rip=%s, lip=198.51.100.25, mpid=%d, TLS, session=<%016x>\n",
				t.Format(time.Stamp), svc, i, ip, 10000+r.IntN(50000), r.Uint64())
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}
