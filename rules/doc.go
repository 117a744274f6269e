// Package rules turns time-ordered events into findings an admin acts on.
// Rules run on event time, never on the wall clock, so replays are
// deterministic. Each concern lives in its own file:
//
//   - engine.go: the Engine, its findings and bounds;
//   - attribute.go: every failure is attributed before it counts;
//   - attack.go: brute-force, password-spray, distributed-attack and
//     stale-credentials over attributed failures;
//   - campaign.go: spray-campaign, the server-wide distributed spray;
//   - compromise.go: accused sources, account-compromise, withdrawals;
//   - success.go: what a successful login raises, learns or quarantines:
//     success-after-failures, new-device (with its learning period),
//     not-allowlisted, cleartext-auth;
//   - simple.go: impossible-travel and cloud-intermediary;
//   - state.go: the attack state a run hands to the next (MarshalState);
//   - window.go: time windows.
//
// # Attribution
//
// A failure waits up to Attribution.Window (15 min) for an explanation:
// a typo (the same user logs in from the same source; fewer than
// brute_force.failures of them, from a source not accused, with fewer
// than 3 different wrong-password hashes), familiar (the source's address,
// network, wide network, ASN or cloud provider is in the user's
// baseline, or the same wrong password repeats: a device), a shared
// gateway (a failure naming nobody, from a source with a recent trusted
// login, beside a user's own failure, or in the address or wide network of
// some user's known address), or tolerated at a busy shared source (an
// office: Tolerance a day per user with a trusted login there). What is
// left is hostile, and only hostile failures feed the attack rules. A
// source (an address; IPv6: its /64) that an attack rule or a campaign
// names is accused for Retention (30 days).
//
// # Rules
//
// Defaults are those of DefaultConfig; each rule has a TOML section.
//
//   - account-compromise, critical: a login from an accused source that
//     is not in the user's baseline, also found when the source is
//     accused after the login. Through a cloud intermediary only for an
//     account that failed through that address. The only critical rule.
//   - spray-campaign, high: while an hour of hostile failures of sources
//     that are not bursting holds 10 sources and 10 names (each unnamed
//     attempt one), every such source joins one campaign.
//   - brute-force, high: 10 hostile attempts within 10 min, or within 24 h
//     (slow guessing; medium while it names one account only).
//   - password-spray, high: 5 distinct users failing from one source
//     within 24 h.
//   - distributed-attack, high: one user failing from 10 sources in 1 h.
//   - success-after-failures, high: the user's own failures (3 in 1 h)
//     from a source new to the user, then a login.
//   - not-allowlisted, high: a login outside the allowlist.
//   - new-device, low (medium: new country, hosting network): a login
//     from a network, ASN or country new to a mature baseline (5 days,
//     10 logins); until then the baseline learns silently.
//   - impossible-travel, cleartext-auth, medium; stale-credentials, low
//     (familiar sources only, never accused ones); cloud-intermediary,
//     info.
//
// A login that raised a finding of high or above is never learned: the
// baseline quarantines it. A source whose named attempts were all one
// user's is withdrawn (its slow brute force becomes stale-credentials, it
// leaves its campaigns) when that user logs in from it or from its wide
// network: a phone with an old password.
//
// # Events
//
// Only KindLogin and KindSASL events are attempts; a KindAuth line is a
// detail of one, read only for its PasswordHash. A KindClient event (IMAP
// ID) is remembered by session for the client facet of that session's
// successful login, never counted. A failure counts its
// Attempts (at most 1000 per line). Aborted events are not failures; a
// Refused event had its credentials accepted and counts as a login.
// Loopback and "secured" connections from private space are no sources.
// User names are compared in their CanonicalUser form.
//
// # Memory
//
// Names and addresses in failures are attacker-chosen. Sources and
// accusations are each capped at MaxSources, (user, source) pairs and
// users at MaxSources/2; past a cap the least recently active quarter is
// dropped (evicted sources are counted: NotTracked). Windows keep
// at most max(4096, 2×threshold) items; the campaign window 32768
// attempts. A campaign lists at most MaxSources/5 members: later sources
// still count, go on the campaign and are accused, but are only counted
// (Campaign.NotTracked).
// Each rule keeps at most MaxFindings findings, then one overflow
// finding of the same rule and severity.
package rules
