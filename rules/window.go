package rules

import (
	"strconv"
	"time"
)

// fail is one attempt in a window: a failure, or the success that
// completes success-after-failures.
type fail struct {
	t    time.Time
	user string // canonical user, "" when the line named none
	// ip is the address, where the window's subject is a network; in a
	// window that counts distinct keys (a user's sources), the key.
	ip   string
	file string
	line int
	n    int
}

// evidence returns "file:line" of f's line ("-" for a nameless file), or
// "" when f has no position.
func (f fail) evidence() string {
	if f.line <= 0 && f.file == "" {
		return ""
	}
	file := f.file
	if file == "" {
		file = "-"
	}
	return file + ":" + strconv.Itoa(f.line)
}

// window is a time window of attempts, oldest first. With distinct set it
// counts the distinct keys (the ip field) of its items.
type window struct {
	buf  []fail // buf[head:] are live, oldest first
	head int
	sum  int
	// distinct, when set, counts the distinct keys of the items.
	distinct *keyCounts
}

// push adds f to w after dropping what is older than now-d; an f that is
// itself older is not added. At most max(minWindowItems, 2*limit) items
// are kept (the oldest go first); sums and distinct keys count at most
// maxDistinct keys.
func (w *window) push(f fail, now time.Time, d time.Duration, limit int) {
	cut := now.Add(-d)
	w.prune(cut)
	if f.t.Before(cut) {
		return
	}
	if n := max(minWindowItems, 2*limit); w.len() >= n {
		w.pop()
	}
	w.add(f)
}

// add appends f as the newest item and counts it.
func (w *window) add(f fail) {
	w.append(f)
	w.sum += f.n
	if w.distinct != nil && f.ip != "" {
		w.distinct.add(f.ip, maxDistinct)
	}
}

// prune drops the items older than cut.
func (w *window) prune(cut time.Time) {
	for w.len() > 0 && w.buf[w.head].t.Before(cut) {
		w.pop()
	}
}

func (w *window) pop() {
	f := w.buf[w.head]
	w.buf[w.head] = fail{}
	w.head++
	if w.head == len(w.buf) {
		w.buf, w.head = w.buf[:0], 0
	}
	w.sum -= f.n
	if w.distinct != nil && f.ip != "" {
		w.distinct.remove(f.ip)
	}
	if len(w.buf) == 0 && cap(w.buf) > 64 {
		w.buf = nil // let a burst's array go
	}
}

// live returns the items in the window, oldest first.
func (w *window) live() []fail { return w.buf[w.head:] }

// len returns the number of items in the window.
func (w *window) len() int { return len(w.buf) - w.head }

// since returns the sum of the items at or after t.
func (w *window) since(t time.Time) int {
	n := 0
	live := w.live()
	for i := len(live) - 1; i >= 0 && !live[i].t.Before(t); i-- {
		n += live[i].n
	}
	return n
}

// append adds f as the newest item. When the array is full and at least
// half of it is dead, the live items slide back to its start, which costs
// O(1) per item over time.
func (w *window) append(f fail) {
	if len(w.buf) == cap(w.buf) && w.head >= len(w.buf)/2 && w.head > 0 {
		n := copy(w.buf, w.buf[w.head:])
		clear(w.buf[n:])
		w.buf, w.head = w.buf[:n], 0
	}
	w.buf = append(w.buf, f)
}
