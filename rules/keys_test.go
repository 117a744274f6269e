package rules

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestKeyCounts(t *testing.T) {
	tests := []struct {
		name  string
		add   []string
		rm    []string
		limit int
		want  []string
	}{
		{"empty", nil, nil, 10, []string{}},
		{"repeats", []string{"a", "a", "b"}, nil, 10, []string{"a", "b"}},
		{"remove once of two", []string{"a", "a", "b"}, []string{"a"}, 10, []string{"a", "b"}},
		{"remove to zero", []string{"a", "b"}, []string{"a"}, 10, []string{"b"}},
		{"limit", []string{"a", "b", "c", "a"}, nil, 2, []string{"a", "b"}},
		{"past the slice", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "9"}, []string{"9", "0"}, 100,
			[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{"limit past the slice", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, nil, 9,
			[]string{"0", "1", "2", "3", "4", "5", "6", "7", "8"}},
		{"unknown removed", []string{"a"}, []string{"x"}, 10, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c keyCounts
			for _, k := range tt.add {
				c.add(k, tt.limit)
			}
			for _, k := range tt.rm {
				c.remove(k)
			}
			got := c.keys()
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || c.len() != len(want) {
				t.Fatalf("keys %q len %d, want %q", got, c.len(), want)
			}
			for _, k := range want {
				if !c.has(k) {
					t.Errorf("has(%q) = false", k)
				}
			}
			if c.has("never") {
				t.Error(`has("never") = true`)
			}
		})
	}
}

// TestKeyCountsMany checks counting in the map form against a plain map.
func TestKeyCountsMany(t *testing.T) {
	var c keyCounts
	ref := map[string]int{}
	for i := range 200 {
		k := strconv.Itoa(i % 37)
		c.add(k, 1000)
		ref[k]++
		if i%3 == 0 {
			r := strconv.Itoa(i % 11)
			c.remove(r)
			if ref[r] > 1 {
				ref[r]--
			} else {
				delete(ref, r)
			}
		}
		if c.len() != len(ref) {
			t.Fatalf("after %d: len %d, want %d", i, c.len(), len(ref))
		}
	}
}

// TestBurstWithinDay checks that a source's burst is the newest of its day
// window within BruteForce.Window, as a window of its own was.
func TestBurstWithinDay(t *testing.T) {
	c := DefaultConfig()
	c.BruteForce.Window = 10 * time.Minute
	var s source
	var ref window
	at := []time.Duration{0, time.Minute, 2 * time.Minute, 15 * time.Minute, 16 * time.Minute, 40 * time.Minute,
		40 * time.Minute, 41 * time.Minute, 55 * time.Minute, 3 * time.Hour}
	for i, d := range at {
		f := fail{t: t0.Add(d), n: 1 + i%3, line: i + 1}
		s.pushHostile(f, c)
		ref.push(f, f.t, c.BruteForce.Window, c.BruteForce.Failures)
		if s.burstSum != ref.sum || len(s.burst()) != ref.len() || s.burst()[0].line != ref.live()[0].line {
			t.Fatalf("after %v: burst %d items sum %d, want %d items sum %d", d, len(s.burst()), s.burstSum, ref.len(), ref.sum)
		}
	}
	// A sweep later drops the burst and keeps the day.
	s.pruneBurst(t0.Add(4 * time.Hour).Add(-c.BruteForce.Window))
	if s.burstN != 0 || s.burstSum != 0 || s.day.len() != len(at) {
		t.Errorf("after the sweep: burst %d/%d, day %d", s.burstN, s.burstSum, s.day.len())
	}
}

// TestPendingQueue checks the chunked queue against a slice across chunk
// boundaries, emptying and refilling.
func TestPendingQueue(t *testing.T) {
	var q pendingQueue
	var ref []int
	next := 0
	for round, n := range []int{3, pendingChunk + 5, 2*pendingChunk + 1, 0, 7} {
		for range n {
			q.push(pendingFail{f: fail{line: next}})
			ref = append(ref, next)
			next++
		}
		pops := len(ref) / 2
		if round == 3 {
			pops = len(ref) // empty it
		}
		for range pops {
			if got := q.pop().f.line; got != ref[0] {
				t.Fatalf("round %d: pop %d, want %d", round, got, ref[0])
			}
			ref = ref[1:]
		}
		if q.len() != len(ref) {
			t.Fatalf("round %d: len %d, want %d", round, q.len(), len(ref))
		}
		for i, want := range ref {
			if got := q.at(i).f.line; got != want {
				t.Fatalf("round %d: at(%d) = %d, want %d", round, i, got, want)
			}
		}
	}
}

// TestMemoryBaselineSets checks the memory baseline's device sets across
// the slice-to-map switch, and KnownAnywhere for every facet.
func TestMemoryBaselineSets(t *testing.T) {
	b := NewMemoryBaseline()
	var all []Device
	for i := range fewDevices + 4 {
		d := Device{FacetAddress, "192.0.2." + strconv.Itoa(i)}
		all = append(all, d)
		if err := b.Learn("alice", d, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A long value (two length bytes) and a facet without a code.
	long := Device{FacetClient, strings.Repeat("x", 200)}
	odd := Device{Facet("custom"), "v"}
	b.Learn("carol", long, t0)
	b.Learn("carol", Device{FacetCountry, "DE"}, t0)
	b.Learn("carol", odd, t0)
	for _, d := range []Device{long, {FacetCountry, "DE"}, odd} {
		if ok, _ := b.Known("carol", d); !ok {
			t.Errorf("Known(carol, %.20v) = false", d)
		}
	}
	if ok, _ := b.Known("carol", Device{FacetClient, strings.Repeat("x", 199)}); ok {
		t.Error("a prefix of a known client is known")
	}
	b.Quarantine("carol", long, t0, RuleAccountCompromise)
	if ok, _ := b.Known("carol", Device{FacetCountry, "DE"}); !ok {
		t.Error("removing the first packed device lost the next")
	}
	asn := Device{FacetASN, "AS64500"}
	b.Learn("bob", asn, t0)
	b.Learn("bob", asn, t0) // again: not counted twice
	for _, d := range append(all, asn) {
		user := "alice"
		if d == asn {
			user = "bob"
		}
		if ok, _ := b.Known(user, d); !ok {
			t.Errorf("Known(%s, %v) = false", user, d)
		}
		if ok, _ := b.KnownAnywhere(d); !ok {
			t.Errorf("KnownAnywhere(%v) = false", d)
		}
	}
	if ok, _ := b.Known("bob", all[0]); ok {
		t.Error("bob knows alice's address")
	}
	b.Quarantine("alice", all[3], t0, RuleAccountCompromise)
	b.Quarantine("bob", asn, t0, RuleAccountCompromise)
	for _, d := range []Device{all[3], asn} {
		if ok, _ := b.KnownAnywhere(d); ok {
			t.Errorf("KnownAnywhere(%v) after quarantine = true", d)
		}
	}
	if ok, _ := b.HasUser("bob"); ok {
		t.Error("bob has devices after the quarantine of his only one")
	}
	if _, n, _ := b.Since("alice"); n != int64(len(all)) {
		t.Errorf("alice's logins %d, want %d", n, len(all))
	}
}
