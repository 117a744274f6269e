package metrics

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads text with the Prometheus text parser, as node_exporter's
// textfile collector does.
func parse(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("the Prometheus parser rejects the output: %v\n%s", err, text)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestWriteTextParses(t *testing.T) {
	r := New()
	r.Define("t_lines_read_total", Counter, "Lines read.\nSecond line with a \\ backslash.")
	r.Define("t_events_total", Counter, "Events.", "kind", "user")
	r.Define("t_age_seconds", Gauge, "Age.", "source")
	r.Define("t_empty_total", Counter, "Nothing yet.", "rule")
	r.Add("t_lines_read_total", 5)
	r.Add("t_lines_read_total", 2)
	hostile := "ev\"il\\\nuser\xff"
	r.Add("t_events_total", 1, "login", hostile)
	r.Add("t_events_total", 3, "sasl", "bob")
	r.Set("t_age_seconds", 1.5e9, "builtin")
	r.Set("t_age_seconds", 12, "builtin")

	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	fams := parse(t, b.Bytes())
	tests := []struct {
		family string
		typ    dto.MetricType
		labels map[string]string
		value  float64
	}{
		{"t_lines_read_total", dto.MetricType_COUNTER, map[string]string{}, 7},
		{"t_events_total", dto.MetricType_COUNTER, map[string]string{"kind": "login", "user": "ev\"il\\\nuser\uFFFD"}, 1},
		{"t_events_total", dto.MetricType_COUNTER, map[string]string{"kind": "sasl", "user": "bob"}, 3},
		{"t_age_seconds", dto.MetricType_GAUGE, map[string]string{"source": "builtin"}, 12},
	}
	for _, tt := range tests {
		f := fams[tt.family]
		if f == nil {
			t.Errorf("no family %s in\n%s", tt.family, b.String())
			continue
		}
		if f.GetType() != tt.typ {
			t.Errorf("%s: type %v, want %v", tt.family, f.GetType(), tt.typ)
		}
		found := false
		for _, m := range f.GetMetric() {
			got := labels(m)
			if len(got) != len(tt.labels) {
				continue
			}
			match := true
			for k, v := range tt.labels {
				if got[k] != v {
					match = false
				}
			}
			if !match {
				continue
			}
			found = true
			v := m.GetCounter().GetValue()
			if tt.typ == dto.MetricType_GAUGE {
				v = m.GetGauge().GetValue()
			}
			if v != tt.value {
				t.Errorf("%s%v = %v, want %v", tt.family, tt.labels, v, tt.value)
			}
		}
		if !found {
			t.Errorf("%s: no series %v in\n%s", tt.family, tt.labels, b.String())
		}
	}
	// A family with no series yet is announced (the parser keeps no
	// family without samples, so look at the text).
	if !strings.Contains(b.String(), "# TYPE t_empty_total counter\n") {
		t.Errorf("t_empty_total is not announced:\n%s", b.String())
	}
	if got := fams["t_lines_read_total"].GetHelp(); got != "Lines read.\nSecond line with a \\ backslash." {
		t.Errorf("help = %q", got)
	}
}

func TestWriteFileAtomicAndCounters(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "mailaudit.prom")
	saved := filepath.Join(dir, "state.metrics.json")
	run := func(lines float64) *Registry {
		r := New()
		r.Define("t_lines_read_total", Counter, "Lines.")
		r.Define("t_findings_total", Counter, "Findings.", "rule", "severity")
		r.Define("t_last_run_timestamp_seconds", Gauge, "Last run.")
		if err := r.LoadCounters(saved); err != nil {
			t.Fatal(err)
		}
		r.Add("t_lines_read_total", lines)
		r.Add("t_findings_total", 1, "brute-force", "high")
		r.Set("t_last_run_timestamp_seconds", lines)
		if err := r.WriteFile(prom); err != nil {
			t.Fatal(err)
		}
		if err := r.SaveCounters(saved); err != nil {
			t.Fatal(err)
		}
		return r
	}
	run(10)
	r := run(5)
	if got := r.Value("t_lines_read_total"); got != 15 {
		t.Errorf("lines over two runs = %v, want 15", got)
	}
	if got := r.Value("t_findings_total", "brute-force", "high"); got != 2 {
		t.Errorf("findings over two runs = %v, want 2", got)
	}
	if got := r.Value("t_last_run_timestamp_seconds"); got != 5 {
		t.Errorf("a gauge was carried over: %v, want 5", got)
	}
	text, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	fams := parse(t, text)
	if v := fams["t_lines_read_total"].GetMetric()[0].GetCounter().GetValue(); v != 15 {
		t.Errorf("file says %v lines, want 15", v)
	}
	if st, _ := os.Stat(prom); st.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v, want 0644 (node_exporter reads it)", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestLoadCountersErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage": "{",
		"version": `{"version": 9, "counters": []}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		r := New()
		if err := r.LoadCounters(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: LoadCounters = %v, want an error naming the file", name, err)
		}
	}
	// A renamed or relabelled family is dropped, not an error.
	p := filepath.Join(dir, "old")
	os.WriteFile(p, []byte(`{"version":1,"counters":[{"name":"gone_total","labels":[],"value":3},{"name":"t_total","labels":["x","y"],"value":3}]}`), 0o600)
	r := New()
	r.Define("t_total", Counter, "T.", "a")
	if err := r.LoadCounters(p); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	if strings.Contains(b.String(), "3") {
		t.Errorf("stale series kept:\n%s", b.String())
	}
}
