package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailaudit/mailaudit/loggen"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite golden sections in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	// Hermetic: the machine's /etc/mailaudit is not read, and the age of
	// the built-in ranges is not warned about, unless a script asks (the
	// variables reach the scripts' mailaudit, which is this binary).
	etcConfig = os.Getenv("MAILAUDIT_TEST_ETC_CONFIG")
	if etcConfig == "" {
		etcConfig = filepath.Join(os.TempDir(), "mailaudit-test-no-such-dir", "mailaudit.toml")
	}
	if os.Getenv("MAILAUDIT_TEST_STALE_RANGES") == "" {
		rangesStaleAfter = 1 << 62
	}
	testscript.Main(m, map[string]func(){
		"mailaudit": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		// loggen-stress KIND N writes N lines of `loggen -stress KIND`.
		"loggen-stress": func() {
			n, err := strconv.Atoi(os.Args[2])
			if err == nil {
				err = loggen.WriteStress(os.Stdout, loggen.Stress(os.Args[1]), n, 1, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		},
	})
}

// TestScript runs the CLI scripts in testdata/script: the real command in
// a separate process, with real exit codes, stdout and stderr.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("TZ", "UTC")
			e.Setenv("NO_COLOR", "1")
			e.Setenv("XDG_CACHE_HOME", filepath.Join(e.WorkDir, ".cache"))
			e.Setenv("XDG_STATE_HOME", filepath.Join(e.WorkDir, ".state"))
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("MAILAUDIT_TEST_ETC_CONFIG", filepath.Join(e.WorkDir, "etc", "mailaudit", "mailaudit.toml"))
			return nil
		},
	})
}

// TestLayering keeps the packages in their lanes: parse knows formats,
// ipranges addresses, rules detection, report rendering; only cmd wires.
func TestLayering(t *testing.T) {
	const mod = "github.com/mailaudit/mailaudit/"
	allow := map[string][]string{
		"parse":               nil,
		"logfile":             {"internal/atomicfile"},
		"ipranges":            {"internal/atomicfile"},
		"internal/atomicfile": nil,
		"notify":              {"internal/atomicfile"},
		"metrics":             {"internal/atomicfile"},
		"internal/geoiptest":  nil,
		"loggen":              nil,
		"rules":               {"parse", "ipranges"},
		"baseline":            {"rules", "parse", "ipranges"},
		"report":              {"parse", "ipranges", "rules"},
	}
	for dir, ok := range allow {
		p, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
		if err != nil {
			if _, statErr := os.Stat(filepath.Join("..", "..", dir)); os.IsNotExist(statErr) {
				continue
			}
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range p.Imports {
			if rest, in := strings.CutPrefix(imp, mod); in && !slices.Contains(ok, rest) {
				t.Errorf("%s must not import %s", dir, imp)
			}
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"usage", usagef("bad flag"), exitUsage},
		{"findings", errFindings, exitFindings},
		{"input error", &inputError{errs: []error{os.ErrNotExist}}, exitError},
		{"findings and input error", errors.Join(errFindings, &inputError{errs: []error{os.ErrNotExist}}), exitError},
		{"other", os.ErrPermission, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// runMain runs mailaudit in-process and returns its exit code, stdout and stderr.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}
