package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func renderScanHTML(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteScan(&b, HTML, fixtureSummary(), fixtureFindings()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestScanHTMLSelfContained checks the page loads nothing and runs
// nothing, and that logged values are escaped.
func TestScanHTMLSelfContained(t *testing.T) {
	page := string(renderScanHTML(t))
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url(", "<link", "<img", "<iframe", "\x1b"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{"<svg ", "<rect ", `class="finding high"`, "brute-force", "Cloud intermediaries", "Failed logins and probes", "Totals",
		// The formula user name, escaped.
		"=HYPERLINK(&#34;http://evil.example/&#34;,&#34;x&#34;)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestScanHTMLInChromium renders the page in headless Chromium (Debian's
// chromium package; skipped when it is not installed) and checks that the
// DOM it builds shows the findings and the chart.
func TestScanHTMLInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "scan.html")
	if err := os.WriteFile(file, renderScanHTML(t), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+file)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"<svg", "<rect", "brute-force", "9 failed logins from 192.0.2.66", "finding high"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	png := filepath.Join(dir, "shot.png")
	if err := exec.CommandContext(ctx, bin, append(args, "--screenshot="+png, "--window-size=1200,2000", "file://"+file)...).Run(); err != nil {
		t.Fatalf("chromium --screenshot: %v", err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot missing or tiny: %v", err)
	}
}
