package rules

import (
	"time"

	"github.com/mailaudit/mailaudit/ipranges"
)

// Severity orders findings.
type Severity uint8

// The severities, lowest first.
const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
)

// String returns the contract name of s.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return ""
}

// Finding is one thing an admin should look at.
type Finding struct {
	Rule     string
	Severity Severity
	// User is the account concerned; HasUser is false for multi-user
	// findings (spraying).
	User    string
	HasUser bool
	// RemoteIP is the address concerned; for a multi-address finding it is
	// empty and Addresses lists them.
	RemoteIP  string
	Addresses []string
	Origin    ipranges.Origin
	First     time.Time
	Last      time.Time
	Count     int
	// Evidence lists "file:line" of the lines behind the finding, capped.
	Evidence []string
	// Message is one sentence for a person.
	Message string
}
