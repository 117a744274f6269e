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

	// Campaign, Compromise and Learning detail spray-campaign,
	// account-compromise and new-device findings; nil otherwise.
	Campaign   *Campaign
	Compromise *Compromise
	Learning   *Learning
}

// Campaign details a spray-campaign finding: a distributed password spray
// seen server-wide.
type Campaign struct {
	// ID names the campaign within its state: "c" and a number.
	ID string
	// Attempts counts the hostile attempts of the members during the
	// campaign.
	Attempts int
	// Names counts the distinct names tried; each attempt that named no
	// user (Postfix without sasl_username) counts as one. At most 100,000
	// distinct named ones are counted (the message then says "100000+").
	Names int
	// Accounts counts the named names that are accounts: users with a
	// successful login (in the baseline or this run).
	Accounts int
	// Unnamed counts the attempts that named no user.
	Unnamed int
	// Services lists the services attacked, sorted.
	Services []string
	// Members lists every member address, by first attempt.
	Members []Member
	// NotTracked counts the attempts of sources that joined beyond the
	// members kept (MaxSources/5): they are counted in Attempts and
	// accused, but not listed in Members.
	NotTracked int
}

// Member is one source of a campaign.
type Member struct {
	Address  string
	Attempts int
	// Names counts the distinct names this member tried (each unnamed
	// attempt counting as one).
	Names int
	// Succeeded lists the users this member logged in as.
	Succeeded []string
	// Evidence is "file:line" of its first attempt in the campaign.
	Evidence    string
	First, Last time.Time
}

// Compromise details an account-compromise finding.
type Compromise struct {
	// AccusedBy is the rule that accused the source: brute-force,
	// password-spray or spray-campaign; Campaign is its ID for the latter.
	AccusedBy string
	Campaign  string
	// Failures counts the hostile attempts the source made, on any
	// account; OtherAccounts the distinct other names it tried.
	Failures      int
	OtherAccounts int
	// Success is "file:line" of the first successful login.
	Success string
	// Submissions counts the source's Postfix SASL logins as the user
	// (the account sent mail); Logins its other successful logins.
	Submissions int
	Logins      int
	// Actions are what the admin should do.
	Actions []string
}

// Learning is the state of a user's baseline when a new-device finding
// was raised.
type Learning struct {
	Days   int   // days since the user's first learned login
	Logins int64 // successful logins learned
}
