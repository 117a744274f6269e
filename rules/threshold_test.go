package rules

import (
	"strings"
	"testing"
)

func TestThreshold(t *testing.T) {
	f := func(rule string, s Severity) Finding { return Finding{Rule: rule, Severity: s} }
	tests := []struct {
		in      string
		str     string
		match   []Finding
		nomatch []Finding
	}{
		{in: "high", str: "high",
			match:   []Finding{f(RuleBruteForce, High), f(RuleSuccessAfterFailures, Critical)},
			nomatch: []Finding{f(RuleNewDevice, Medium), f(RuleCloudIntermediary, Info)}},
		{in: "INFO", str: "info", match: []Finding{f(RuleCloudIntermediary, Info)}},
		{in: "brute-force, cleartext-auth", str: "brute-force,cleartext-auth",
			match:   []Finding{f(RuleBruteForce, High), f(RuleCleartextAuth, Medium)},
			nomatch: []Finding{f(RuleSuccessAfterFailures, Critical)}},
		{in: "critical,not-allowlisted,critical", str: "critical,not-allowlisted",
			match:   []Finding{f(RuleSuccessAfterFailures, Critical), f(RuleNotAllowlisted, Low)},
			nomatch: []Finding{f(RuleBruteForce, High)}},
		{in: "high,low", str: "low", match: []Finding{f(RuleNewDevice, Low)}, nomatch: []Finding{f(RuleCloudIntermediary, Info)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			th, err := ParseThreshold(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if th.String() != tt.str {
				t.Errorf("String() = %q, want %q", th.String(), tt.str)
			}
			for _, x := range tt.match {
				if !th.Matches(x) {
					t.Errorf("%v does not match %+v", th, x)
				}
			}
			for _, x := range tt.nomatch {
				if th.Matches(x) {
					t.Errorf("%v matches %+v", th, x)
				}
			}
		})
	}
}

func TestThresholdErrors(t *testing.T) {
	for _, in := range []string{"", "hihg", "brute-force,", "brute_force", ",high"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseThreshold(in); err == nil {
				t.Errorf("ParseThreshold(%q) succeeded", in)
			}
		})
	}
	_, err := ParseThreshold("bruteforce")
	if err == nil || !strings.Contains(err.Error(), "brute-force") {
		t.Errorf("error does not list the rules: %v", err)
	}
}

func TestDefaultThreshold(t *testing.T) {
	th := DefaultThreshold()
	if !th.Matches(Finding{Rule: RuleNotAllowlisted, Severity: High}) ||
		th.Matches(Finding{Rule: RuleSuccessAfterFailures, Severity: Critical}) {
		t.Errorf("DefaultThreshold = %v", th)
	}
	var zero Threshold
	if zero.Matches(Finding{Rule: RuleBruteForce, Severity: Critical}) {
		t.Error("the zero Threshold matches")
	}
}
