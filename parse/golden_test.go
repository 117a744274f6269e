package parse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenEvent is the test-only JSON form of a Parse result.
type goldenEvent struct {
	Status   string `json:"status"`
	Time     string `json:"time,omitempty"`
	Host     string `json:"host,omitempty"`
	Program  string `json:"program,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Service  string `json:"service,omitempty"`
	Result   string `json:"result,omitempty"`
	User     string `json:"user,omitempty"`
	HasUser  bool   `json:"has_user,omitempty"`
	RemoteIP string `json:"rip,omitempty"`
	Addr     string `json:"addr,omitempty"`
	LocalIP  string `json:"lip,omitempty"`
	TLS      string `json:"tls,omitempty"`
	Secured  bool   `json:"secured,omitempty"`
	Method   string `json:"method,omitempty"`
	Session  string `json:"session,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Refused  bool   `json:"refused,omitempty"`
	Client   string `json:"client,omitempty"`
}

// marshalResult renders one Parse result as a JSON line, null when Ignored.
func marshalResult(ev Event, st Status) []byte {
	if st == Ignored {
		return []byte("null")
	}
	g := goldenEvent{Status: "parsed", Host: ev.Host, Program: ev.Program, Kind: ev.Kind.String(),
		Service: ev.Service, Result: ev.Result.String(), User: ev.User, HasUser: ev.HasUser,
		RemoteIP: ev.RemoteIP, LocalIP: ev.LocalIP, Secured: ev.Secured, Method: ev.Method,
		Session: ev.Session, Attempts: ev.Attempts, Reason: ev.Reason, Refused: ev.Refused, Client: ev.Client}
	if st == Malformed {
		g.Status = "malformed"
	}
	if !ev.Time.IsZero() {
		g.Time = ev.Time.Format(time.RFC3339Nano)
	}
	if ev.Addr.IsValid() {
		g.Addr = ev.Addr.String()
	}
	g.TLS = map[TLS]string{TLSYes: "yes", TLSNo: "no"}[ev.TLS]
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// readLines splits a file into lines without their "\n".
func readLines(t testing.TB, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	return bytes.Split(data, []byte("\n"))
}

// TestGolden parses testdata/<shape>.log and compares each line's result
// with testdata/<shape>.golden.jsonl; `go test ./parse -update` rewrites them.
func TestGolden(t *testing.T) {
	logs, err := filepath.Glob("testdata/*.log")
	if err != nil || len(logs) == 0 {
		t.Fatal("no testdata/*.log", err)
	}
	for _, path := range logs {
		name := strings.TrimSuffix(filepath.Base(path), ".log")
		t.Run(name, func(t *testing.T) {
			p := Parser{Year: 2025, Location: time.UTC}
			var out bytes.Buffer
			for _, l := range readLines(t, path) {
				out.Write(marshalResult(p.Parse(l)))
				out.WriteByte('\n')
			}
			golden := strings.TrimSuffix(path, ".log") + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./parse -update)", err)
			}
			got := out.Bytes()
			if !bytes.Equal(got, want) {
				gs, ws := bufio.NewScanner(bytes.NewReader(got)), bufio.NewScanner(bytes.NewReader(want))
				for n := 1; ; n++ {
					g, w := gs.Scan(), ws.Scan()
					if !g && !w {
						break
					}
					if gs.Text() != ws.Text() {
						t.Errorf("%s line %d:\n got %s\nwant %s", path, n, gs.Text(), ws.Text())
					}
				}
			}
		})
	}
}
