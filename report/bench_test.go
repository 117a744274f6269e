package report

import (
	"fmt"
	"io"
	"testing"

	"github.com/mailaudit/mailaudit/ipranges"
	"github.com/mailaudit/mailaudit/parse"
)

func BenchmarkEventWriterJSONL(b *testing.B) {
	ev := login(0, 1, "alice@example.org", "52.98.204.101", "imap", parse.Success, parse.TLSYes)
	b.SetBytes(int64(len(AppendEvent(nil, ev, originEXO)) + 1))
	w, err := NewEventWriter(io.Discard, JSONL)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(ev, originEXO); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkEventWriterJSONLHostile(b *testing.B) {
	ev := login(0, 1, userANSI+userBidi+userInvalid, "192.0.2.66", "imap", parse.Failure, parse.TLSNo)
	ev.Reason = "auth failed, 3 attempts in 6 secs"
	b.SetBytes(int64(len(AppendEvent(nil, ev, ipranges.Origin{})) + 1))
	w, _ := NewEventWriter(io.Discard, JSONL)
	b.ReportAllocs()
	for b.Loop() {
		_ = w.Write(ev, ipranges.Origin{})
	}
	_ = w.Close()
}

func BenchmarkSummaryAddLogin(b *testing.B) {
	s := NewSummary()
	evs := make([]parse.Event, 100)
	for i := range evs {
		evs[i] = login(0, 0, fmt.Sprintf("user%d@example.org", i%20), fmt.Sprintf("203.0.113.%d", i), "imap", parse.Success, parse.TLSYes)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add(evs[i%len(evs)], originDevice)
		i++
	}
}

func BenchmarkSummaryAddFailure(b *testing.B) {
	s := NewSummary()
	evs := make([]parse.Event, 1000)
	for i := range evs {
		evs[i] = login(0, 0, fmt.Sprintf("guess%d", i), fmt.Sprintf("192.0.2.%d", i%50), "imap", parse.Failure, parse.TLSNo)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Add(evs[i%len(evs)], ipranges.Origin{})
		i++
	}
}

func BenchmarkSanitizeClean(b *testing.B) {
	s := "jürgen.müller@example.org"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Sanitize(s)
	}
}
