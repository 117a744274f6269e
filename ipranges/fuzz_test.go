package ipranges

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzReadList(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "user-list.txt")); err == nil {
		f.Add(string(data))
	}
	f.Add("10.0.0.0/8 a b device x y\n::ffff:1.2.3.4 m\n")
	f.Add("fe80::1%eth0 zoned\n")
	f.Fuzz(func(t *testing.T, text string) {
		es, err := ReadList("f", strings.NewReader(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		tbl := NewTable()
		for _, e := range es {
			if !e.Prefix.IsValid() || e.Prefix != e.Prefix.Masked() || e.Prefix.Addr().Is4In6() {
				t.Fatalf("prefix %v not normalized", e.Prefix)
			}
			if !nameRE.MatchString(e.Label) || !strings.Contains(text, e.Label) {
				t.Fatalf("label %q", e.Label)
			}
			if err := tbl.Insert(e.Prefix, Label{Name: e.Label}); err != nil {
				t.Fatal(err)
			}
			if got := tbl.Lookup(e.Prefix.Addr(), nil); len(got) == 0 {
				t.Fatalf("%v not found after insert", e.Prefix)
			}
		}
	})
}

func FuzzParseFeeds(f *testing.F) {
	for _, n := range []string{"o365-endpoints.json", "azure-servicetags.json", "goog.json", "aws-ip-ranges.json", "o365-version.json"} {
		if data, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(es []entry, err error) {
			if err == nil && len(es) == 0 {
				t.Fatal("no error and no entries")
			}
			for _, e := range es {
				if !e.Prefix.IsValid() || e.Prefix != e.Prefix.Masked() {
					t.Fatalf("prefix %v", e.Prefix)
				}
			}
		}
		es, err := parseO365("f", data)
		check(es, err)
		es, _, err = parseAzure("f", data)
		check(es, err)
		es, _, err = parseGoogle("f", data, LabelGoogleServices)
		check(es, err)
		es, _, err = parseAWS("f", data)
		check(es, err)
		_, _ = parseO365Version("f", data)
	})
}
