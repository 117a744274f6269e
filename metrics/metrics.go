// Package metrics holds counters and gauges and writes them in the
// Prometheus text exposition format, atomically, for node_exporter's
// textfile collector. Counters can be saved and loaded again so that a
// program run by a timer reports totals over its runs, as counters must.
package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mailaudit/mailaudit/internal/atomicfile"
)

// Type is a metric family's type.
type Type string

// The types this package writes.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

type family struct {
	name, help string
	typ        Type
	labels     []string
	series     map[string]*series // by joined label values
}

type series struct {
	values []string
	v      float64
}

// A Registry holds metric families. It is not safe for concurrent use.
type Registry struct {
	families map[string]*family
}

// New returns an empty Registry.
func New() *Registry { return &Registry{families: map[string]*family{}} }

// Define declares a family; its series are added with Add and Set with
// one value per label name, in this order. Define panics when name is
// declared twice or is not a valid metric name (a programming error).
func (r *Registry) Define(name string, typ Type, help string, labels ...string) {
	if _, dup := r.families[name]; dup || !validName(name) {
		panic("metrics: bad or duplicate family " + name)
	}
	for _, l := range labels {
		if !validName(l) || strings.Contains(l, ":") {
			panic("metrics: bad label name " + l)
		}
	}
	r.families[name] = &family{name: name, typ: typ, help: help, labels: labels, series: map[string]*series{}}
}

func (r *Registry) series(name string, values []string) *series {
	f := r.families[name]
	if f == nil || len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s with %d label values", name, len(values)))
	}
	k := strings.Join(values, "\x00")
	s := f.series[k]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		f.series[k] = s
	}
	return s
}

// Add adds v to the series of name with the label values.
func (r *Registry) Add(name string, v float64, values ...string) { r.series(name, values).v += v }

// Set sets the series of name with the label values to v.
func (r *Registry) Set(name string, v float64, values ...string) { r.series(name, values).v = v }

// Value returns the value of a series, 0 when it has none.
func (r *Registry) Value(name string, values ...string) float64 {
	if f := r.families[name]; f != nil {
		if s := f.series[strings.Join(values, "\x00")]; s != nil {
			return s.v
		}
	}
	return 0
}

// WriteText writes every family, sorted by name and its series by label
// values, in the text exposition format (version 0.0.4). A family with no
// series is written with its HELP and TYPE only.
func (r *Registry) WriteText(w io.Writer) error {
	var b bytes.Buffer
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f := r.families[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := f.series[k]
			b.WriteString(f.name)
			if len(f.labels) > 0 {
				b.WriteByte('{')
				for i, l := range f.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l)
					b.WriteString(`="`)
					b.WriteString(escapeLabel(s.values[i]))
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatValue(s.v))
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile writes the registry to path atomically (mode 0644, as the
// textfile collector reads it as another user): a scrape never sees a
// half-written file.
func (r *Registry) WriteFile(path string) error {
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--metrics-file: %w", err)
	}
	return nil
}

// savedSeries is one counter series in a counters file.
type savedSeries struct {
	Name   string   `json:"name"`
	Labels []string `json:"labels"`
	Value  float64  `json:"value"`
}

type savedCounters struct {
	Version  int           `json:"version"`
	Counters []savedSeries `json:"counters"`
}

// SaveCounters writes the counter series to path atomically, for
// LoadCounters in the next run.
func (r *Registry) SaveCounters(path string) error {
	sc := savedCounters{Version: 1, Counters: []savedSeries{}}
	for _, f := range r.families {
		if f.typ != Counter {
			continue
		}
		for _, s := range f.series {
			sc.Counters = append(sc.Counters, savedSeries{Name: f.name, Labels: s.values, Value: s.v})
		}
	}
	slices.SortFunc(sc.Counters, func(a, b savedSeries) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return slices.Compare(a.Labels, b.Labels)
	})
	data, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

// LoadCounters adds the counters saved at path to r's: the totals of the
// earlier runs. A missing file adds nothing. Series of families r does
// not define as counters, or with another number of labels, are dropped
// (a newer version renamed them).
func (r *Registry) LoadCounters(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var sc savedCounters
	if err := json.Unmarshal(data, &sc); err != nil {
		return fmt.Errorf("%s: %v (remove it to start the counters afresh)", path, err)
	}
	if sc.Version != 1 {
		return fmt.Errorf("%s: unknown version %d", path, sc.Version)
	}
	for _, s := range sc.Counters {
		f := r.families[s.Name]
		if f == nil || f.typ != Counter || len(s.Labels) != len(f.labels) || s.Value < 0 || math.IsNaN(s.Value) {
			continue
		}
		r.Add(s.Name, s.Value, s.Labels...)
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value; invalid UTF-8 is replaced first (the
// format requires UTF-8, and values may come from hostile logs).
func escapeLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
