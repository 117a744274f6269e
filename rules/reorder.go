package rules

import (
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

// DefaultReorderCapacity is the capacity mailaudit gives its Reorder: at
// 424 bytes per buffered login event (plus its user name and file name),
// a buffer of some 14 MB at most, briefly twice that while it grows. With
// one event in eight lines, as on a typical mail server, it orders
// input whose disorder spans about a quarter of a million lines.
const DefaultReorderCapacity = 1 << 15

// A Reorder feeds an Engine in event-time order from input that is only
// roughly in order: a journald export and a log file, or several servers'
// files, each in order but read one after the other. The Engine's windows
// slide on the latest time seen, so without a Reorder the events of a file
// read after a later one arrive "late" and most rules do not count them.
//
// A Reorder holds up to its capacity of events; when one more arrives the
// oldest goes to the Engine. Input whose disorder spans fewer events than
// the capacity reaches the Engine in exact time order; beyond it the
// Engine sees late events as it would without a Reorder. Events of equal
// time keep their arrival order, and an event without a time sorts with
// the event before it. Observe returns the findings raised by the events
// it passed on, so findings come later than with the Engine alone: use a
// Reorder for whole runs (check, cron), not to follow a log live.
//
// A Reorder buffers only the events the Engine reads (KindLogin, KindSASL
// and KindClient with an address) and clears the fields the rules do not
// read (Host, Program, Service, RemoteIP, LocalIP, Reason, and Session but
// of successes and client events). It is not safe for concurrent use.
type Reorder struct {
	eng  *Engine
	max  int
	h    eventHeap
	seq  int
	last time.Time
}

// NewReorder returns a Reorder that feeds e and buffers up to capacity
// events (at least 1).
func NewReorder(e *Engine, capacity int) *Reorder {
	return &Reorder{eng: e, max: max(capacity, 1)}
}

type heldEvent struct {
	t   time.Time
	seq int
	ev  parse.Event
	o   ipranges.Origin
}

// eventHeap is a binary min-heap on (t, seq), written out rather than
// through container/heap so that events are not boxed.
type eventHeap []heldEvent

func (h eventHeap) Len() int { return len(h) }

func (h eventHeap) less(i, j int) bool {
	if c := h[i].t.Compare(h[j].t); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(x heldEvent) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *eventHeap) pop() heldEvent {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = heldEvent{}
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// Observe buffers ev with its origin and returns the findings raised by
// the events that left the buffer for the Engine, if any.
func (r *Reorder) Observe(ev parse.Event, o ipranges.Origin) []Finding {
	if ev.Kind == parse.KindAuth || !ev.Addr.IsValid() {
		return nil
	}
	t := ev.Time
	if t.IsZero() {
		t = r.last
	} else {
		r.last = t
	}
	if ev.Kind != parse.KindClient && ev.Result != parse.Success {
		ev.Session = "" // only a success reads it, for its client (IMAP ID)
	}
	ev.Host, ev.Program, ev.Service, ev.RemoteIP, ev.LocalIP, ev.Reason = "", "", "", "", "", ""
	r.seq++
	r.h.push(heldEvent{t: t, seq: r.seq, ev: ev, o: o})
	var out []Finding
	for r.h.Len() > r.max {
		out = append(out, r.pop()...)
	}
	return out
}

func (r *Reorder) pop() []Finding {
	x := r.h.pop()
	return r.eng.Observe(x.ev, x.o)
}

// Drain passes every buffered event to the Engine, then drains the
// Engine (Engine.Drain), and returns the findings they raised.
func (r *Reorder) Drain() []Finding {
	return append(r.drain(), r.eng.Drain()...)
}

// drain passes every buffered event to the Engine.
func (r *Reorder) drain() []Finding {
	var out []Finding
	for r.h.Len() > 0 {
		out = append(out, r.pop()...)
	}
	if cap(r.h) > 64 {
		r.h = nil
	}
	return out
}

// Len returns the number of events buffered.
func (r *Reorder) Len() int { return r.h.Len() }

// Flush drains the buffer and returns the Engine's Flush: every finding
// of the run.
func (r *Reorder) Flush() []Finding {
	r.drain()
	return r.eng.Flush()
}
