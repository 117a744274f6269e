// Package packaging holds the Debian packaging (deb.sh, nfpm.yaml, the
// systemd units and config files) and the test that builds the package.
package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestDebPackage builds the package with deb.sh and checks what it
// installs, its conffiles and control fields, that the packed binary runs,
// and, where systemd-analyze exists, that the units verify once installed
// (in a scratch root with the host's own units beside them).
func TestDebPackage(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed")
	}
	if testing.Short() {
		t.Skip("builds the whole package: not with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("Debian packages are built on Linux")
	}
	dist := t.TempDir()
	out := run(t, "..", []string{"MAILAUDIT_VERSION=1.2.3~test", "MAILAUDIT_DIST=" + dist}, "bash", "packaging/deb.sh")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	deb := lines[len(lines)-1]
	arch := strings.TrimSpace(run(t, "..", nil, "go", "env", "GOARCH"))
	if want := filepath.Join(dist, "mailaudit_1.2.3~test_"+arch+".deb"); deb != want {
		t.Fatalf("deb.sh printed %q, want %q", deb, want)
	}

	var files []string
	for _, l := range strings.Split(run(t, "", nil, "dpkg-deb", "-c", deb), "\n") {
		if f := strings.Fields(l); len(f) >= 6 && !strings.HasSuffix(f[5], "/") {
			files = append(files, strings.TrimPrefix(f[5], "."))
		}
	}
	want := []string{
		"/usr/bin/mailaudit",
		"/lib/systemd/system/mailaudit-check.service",
		"/lib/systemd/system/mailaudit-check.timer",
		"/lib/systemd/system/mailaudit-follow.service",
		"/lib/systemd/system/mailaudit-ranges-update.service",
		"/lib/systemd/system/mailaudit-ranges-update.timer",
		"/usr/lib/sysusers.d/mailaudit.conf",
		"/etc/mailaudit/mailaudit.toml",
		"/etc/mailaudit/allow.txt",
		"/usr/share/bash-completion/completions/mailaudit",
		"/usr/share/zsh/vendor-completions/_mailaudit",
		"/usr/share/fish/vendor_completions.d/mailaudit.fish",
		"/usr/share/doc/mailaudit/README.md",
		"/usr/share/doc/mailaudit/copyright",
		"/usr/share/man/man1/mailaudit.1.gz",
	}
	for _, sub := range []string{"scan", "check", "report", "report-mechanisms", "ranges", "ranges-update", "baseline", "baseline-list", "version"} {
		want = append(want, "/usr/share/man/man1/mailaudit-"+sub+".1.gz")
	}
	for _, w := range want {
		if !slices.Contains(files, w) {
			t.Errorf("the package lacks %s", w)
		}
	}
	for _, f := range files {
		if !slices.Contains(want, f) && !strings.HasPrefix(f, "/usr/share/man/man1/mailaudit-") {
			t.Errorf("the package holds an unexpected file %s", f)
		}
	}

	fields := run(t, "", nil, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture")
	if w := "Package: mailaudit\nVersion: 1.2.3~test\nArchitecture: " + debArch(arch) + "\n"; fields != w {
		t.Errorf("control fields:\n%s\nwant:\n%s", fields, w)
	}
	ctrl := t.TempDir()
	run(t, "", nil, "dpkg-deb", "-e", deb, ctrl)
	conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(conffiles)); !slices.Equal(got, []string{"/etc/mailaudit/allow.txt", "/etc/mailaudit/mailaudit.toml"}) &&
		!slices.Equal(got, []string{"/etc/mailaudit/mailaudit.toml", "/etc/mailaudit/allow.txt"}) {
		t.Errorf("conffiles = %q", got)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if st, err := os.Stat(filepath.Join(ctrl, s)); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("maintainer script %s missing or not executable", s)
		}
	}

	root := t.TempDir()
	run(t, "", nil, "dpkg-deb", "-x", deb, root)
	if arch == runtime.GOARCH {
		if v := run(t, "", nil, filepath.Join(root, "usr/bin/mailaudit"), "--version"); !strings.HasPrefix(v, "mailaudit 1.2.3~test") {
			t.Errorf("packed binary --version = %q", v)
		}
	}
	verifyUnits(t, root)
}

// debArch is Debian's name of a GOARCH (deb.sh's mapping).
func debArch(goarch string) string {
	switch goarch {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	}
	return goarch
}

// verifyUnits runs systemd-analyze verify on the packed units in root,
// with the host's units copied beside them (the targets they refer to).
// Any complaint fails, warnings about unknown keys included.
func verifyUnits(t *testing.T, root string) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: units not verified")
		return
	}
	unitDir := filepath.Join(root, "lib/systemd/system")
	for _, host := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
		if _, err := os.Stat(host); err == nil {
			// -n: the packed units are never overwritten.
			run(t, "", nil, "cp", "-an", host+"/.", unitDir+"/")
			break
		}
	}
	units, _ := filepath.Glob(filepath.Join(unitDir, "mailaudit-*"))
	if len(units) != 5 {
		t.Fatalf("%d mailaudit units in the package, want 5", len(units))
	}
	args := append([]string{"verify", "--root=" + root, "--man=no"}, units...)
	cmd := exec.Command(analyze, args...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
