package ipranges

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sharedFeed reads a snapshot from ../../shared/ranges or skips.
func sharedFeed(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "ranges", name))
	if err != nil {
		b.Skip("no shared snapshot:", err)
	}
	return data
}

func BenchmarkParseAzure(b *testing.B) {
	data := sharedFeed(b, "azure-servicetags-public.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseAzure("azure", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadFullCache measures Load with a cache holding the real Azure
// snapshot, both Google lists and the built-in table.
func BenchmarkLoadFullCache(b *testing.B) {
	dir := b.TempDir()
	az, cn, err := parseAzure("azure", sharedFeed(b, "azure-servicetags-public.json"))
	if err != nil {
		b.Fatal(err)
	}
	goog, _, err := parseGoogle("goog", sharedFeed(b, "google-goog.tracker-normalized.json"), LabelGoogleServices)
	if err != nil {
		b.Fatal(err)
	}
	cloud, _, err := parseGoogle("cloud", sharedFeed(b, "google-cloud.tracker-normalized.json"), LabelGoogleCloud)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name string
		es   []entry
	}{{sourceAzure, az}, {sourceGoogle, goog}, {sourceGoogleCloud, cloud}} {
		if err := writeCacheFile(dir, &cacheFile{Source: s.name, URL: "x", Date: "d", Fetched: time.Now()}, s.es); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("azure changeNumber %d: %d entries", cn, len(az))
	b.ReportAllocs()
	for b.Loop() {
		c, _, err := Load(Options{CacheDir: dir, NoGeoIP: true})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
