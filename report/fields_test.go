package report

import (
	"reflect"
	"testing"
)

// TestObjectFieldsFastPath compares the decoder-free reading of compact
// JSON with the decoder's on findings and on hand-made objects, and pins
// which inputs fall back to the decoder.
func TestObjectFieldsFastPath(t *testing.T) {
	inputs := []string{
		`{}`,
		`{"a":1}`,
		`{"a":"x,y}","b":[1,{"c":"]"}],"d":null,"e":true,"f":-1.5e3}`,
		`{"s":"quote \" and backslash \\ and \u00e9","t":{"u":[[],{}]}}`,
		`{"a":"\"}","b":"\\"}`,
		`{"é":1,"k":"日本"}`,
	}
	for _, f := range fixtureFindings() {
		inputs = append(inputs, string(AppendFinding(nil, f)))
	}
	for _, in := range inputs {
		fast, ok := compactFields([]byte(in))
		if !ok {
			t.Errorf("%s: not read by the fast path", in)
			continue
		}
		slow, err := decodeFields([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if len(fast) == 0 && len(slow) == 0 {
			continue
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s:\nfast %q\nslow %q", in, fast, slow)
		}
	}
	for _, in := range []string{
		``, `{`, `[]`, `{"a":1,}`, `{"a" :1}`, `{"a": 1}`, `{"a":1 }`, `{"a\"b":1}`, `{"a":}`,
		`{"a":"x}`, `{"a":[1,2}`, `{"a":tru}`, `{"a":1}x`, `{"a":1}}`, `{"a":{"b":1}`, `{a:1}`,
	} {
		if f, ok := compactFields([]byte(in)); ok {
			t.Errorf("%q: read by the fast path as %q", in, f)
		}
	}
}
