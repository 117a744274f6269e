package logfile

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzLineReader compares LineReader with a simple reference splitter.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), uint8(3), false, false)
	f.Add([]byte("abcdef\n\nxy"), uint8(2), true, true)
	f.Add([]byte("\r\n\r"), uint8(0), false, true)
	f.Fuzz(func(t *testing.T, data []byte, max uint8, completeOnly, oneByte bool) {
		var r io.Reader = bytes.NewReader(data)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		lr := NewLineReader(r)
		lr.Max = int(max)
		lr.CompleteOnly = completeOnly
		maxLen := int(max)
		if maxLen == 0 {
			maxLen = DefaultMax
		}

		// Reference: split on '\n'; the last piece is the unterminated tail.
		parts := bytes.Split(data, []byte{'\n'})
		tail := parts[len(parts)-1]
		parts = parts[:len(parts)-1]
		var want [][]byte
		var wantNo []int
		long := 0
		cr := []byte{'\r'} // the "\r" of "\r\n" does not count against Max
		for i, p := range parts {
			if len(bytes.TrimSuffix(p, cr)) > maxLen {
				long++
				continue
			}
			want = append(want, bytes.TrimSuffix(p, []byte{'\r'}))
			wantNo = append(wantNo, i+1)
		}
		if len(tail) > 0 && !completeOnly {
			if len(bytes.TrimSuffix(tail, cr)) > maxLen {
				long++
			} else {
				want = append(want, bytes.TrimSuffix(tail, []byte{'\r'}))
				wantNo = append(wantNo, len(parts)+1)
			}
		}
		wantOff := int64(bytes.LastIndexByte(data, '\n') + 1)

		for i := 0; ; i++ {
			line, err := lr.Next()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("%d lines, want %d", i, len(want))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if i >= len(want) || !bytes.Equal(line, want[i]) || lr.LineNo() != wantNo[i] {
				t.Fatalf("line %d: %q (no %d), want %q", i, line, lr.LineNo(), want)
			}
		}
		if lr.Offset() != wantOff || lr.Long() != long {
			t.Fatalf("Offset %d Long %d, want %d %d", lr.Offset(), lr.Long(), wantOff, long)
		}
	})
}
