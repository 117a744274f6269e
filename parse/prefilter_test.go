package parse

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// slowMayMatter is the prefilter's definition: a plain search for each
// marker.
func slowMayMatter(line []byte) bool {
	for _, m := range markers {
		if bytes.Contains(line, []byte(m.s)) {
			return true
		}
	}
	return false
}

// TestMarkerAnchors pins that each anchor lies inside its marker.
func TestMarkerAnchors(t *testing.T) {
	for _, m := range markers {
		if m.anchor < 0 || m.anchor >= len(m.s) {
			t.Errorf("marker %q: anchor %d outside it", m.s, m.anchor)
		}
	}
}

// TestMayMatter compares the anchored prefilter with a plain search on
// lines holding markers at the edges, cut short, and repeated anchors.
func TestMayMatter(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"", false},
		{"auth", true},
		{"aut", false},
		{"uth", false},
		{"hhhhauthhhh", true},
		{"authauth", true},
		{"xauth", true},
		{"-login: ", true},
		{"-login:", false},
		{"imap-login: Login: user=<a>", true},
		{"--login: ", true},
		{"-logi-login: x", true},
		{"SASL ", true},
		{"SASL", false},
		{"LLSASLL SASL x", true},
		{"warning: SASL LOGIN authentication failed", true},
		{"sasl_method=PLAIN", true},
		{"sasl_method", false},
		{"x_sasl_method_sasl_method=", true},
		{"_____", false},
		{"Nov 22 10:00:01 mx1 postfix/qmgr[3]: 4Xy: removed", false},
		{"Nov 22 10:00:01 mx1 postfix/smtpd[3]: connect from h[1.2.3.4]", false},
	}
	for _, tt := range tests {
		if got := mayMatter([]byte(tt.line)); got != tt.want {
			t.Errorf("mayMatter(%q) = %v, want %v", tt.line, got, tt.want)
		}
		if slow := slowMayMatter([]byte(tt.line)); slow != tt.want {
			t.Errorf("test case %q: plain search says %v", tt.line, slow)
		}
	}
}

// TestMayMatterRandom compares the anchored prefilter with a plain search
// on random lines built from marker pieces.
func TestMayMatterRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "u", "t", "h", "-", "login", ": ", "S", "A", "L", " ", "sasl", "_method", "=", "x"}
	for i := 0; i < 200000; i++ {
		var b []byte
		for n := r.IntN(12); n > 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		if got, want := mayMatter(b), slowMayMatter(b); got != want {
			t.Fatalf("mayMatter(%q) = %v, plain search %v", b, got, want)
		}
	}
}

// TestMarkersPrefilter pins the contract of Markers: a line that contains
// none of them and does not start with "{" is Ignored, whatever else it
// holds.
func TestMarkersPrefilter(t *testing.T) {
	ms := Markers()
	if len(ms) != len(markers) {
		t.Fatalf("Markers() has %d, the prefilter %d", len(ms), len(markers))
	}
	for i, m := range ms {
		if m.Text != markers[i].s || m.Anchor != markers[i].anchor {
			t.Errorf("Markers()[%d] = %+v, prefilter %+v", i, m, markers[i])
		}
	}
	lines := []string{
		"Nov 22 10:00:01 mx1 dovecot: imap-logi: Login: user=<a>, rip=192.0.2.1",
		"Nov 22 10:00:01 mx1 postfix/smtpd[3]: warning: unknown[192.0.2.1]: SASL_LOGIN login failed: UGFzc3dvcmQ6",
		"Nov 22 10:00:01 mx1 dovecot: aut: passwd-file(a,192.0.2.1): unknown user",
	}
	var p Parser
	for _, l := range lines {
		if mayMatter([]byte(l)) {
			t.Fatalf("test line %q holds a marker", l)
		}
		if _, st := p.Parse([]byte(l)); st != Ignored {
			t.Errorf("Parse(%q) = %v, want Ignored", l, st)
		}
	}
}
