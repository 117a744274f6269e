package parse

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// slowLastElem is lastElem's definition: the last occurrence of key that
// follows ", " or ": ".
func slowLastElem(b []byte, key string) int {
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte(key))
		if i < 0 {
			return -1
		}
		if i >= 2 && b[i-1] == ' ' && (b[i-2] == ',' || b[i-2] == ':') {
			return i
		}
		end = i
	}
}

// TestLastElemRandom compares lastElem and hasElem with the plain search
// on random element lists.
func TestLastElemRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"rip=", "ri", "p=", "r", ", ", ": ", ",", ":", " ", "method=", "x", "1.2.3.4", "<", ">"}
	for i := 0; i < 200000; i++ {
		var b []byte
		for n := r.IntN(14); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		for _, key := range []string{"rip=", "method="} {
			want := slowLastElem(b, key)
			if got := lastElem(b, key); got != want {
				t.Fatalf("lastElem(%q, %q) = %d, want %d", b, key, got, want)
			}
			if got := hasElem(b, key); got != (want >= 0) {
				t.Fatalf("hasElem(%q, %q) = %v, want %v", b, key, got, want >= 0)
			}
		}
	}
}
