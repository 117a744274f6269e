// Package notify tells people about findings: it POSTs each one as JSON to
// webhooks (HMAC-signed when a secret is given) and mails a run's findings
// through the local sendmail. A Memory remembers what each target was sent
// and what is still owed to it, so that with a state directory a finding is
// delivered once: a failed delivery is kept and retried by the next Send,
// and one that succeeded is never sent again.
//
// The package knows nothing of rules or report formats: callers hand it
// Items whose body (the finding's JSON object) and text they encoded.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// An Item is one finding to deliver.
type Item struct {
	// Key identifies the finding across runs: an Item whose Key a target
	// was already sent is not sent to it again.
	Key string `json:"key"`
	// Body is the JSON object a webhook receives as the request body; it
	// must be valid JSON (the memory file keeps it as it is).
	Body json.RawMessage `json:"body"`
	// Text is the finding in one line for a mail, already sanitized.
	Text string `json:"text"`
}

// Kind says how a Target is reached.
type Kind int

// The kinds of target.
const (
	Webhook Kind = iota // http:// or https:// URL: one POST per item
	Mail                // mailto:ADDR: one mail per Send through sendmail -t
)

// A Target is where notifications go, parsed by ParseTarget.
type Target struct {
	raw  string
	kind Kind
	url  *url.URL // Webhook
	addr string   // Mail
}

// ParseTarget parses a --notify value: an http:// or https:// URL, or
// mailto:ADDR with one plain address.
func ParseTarget(s string) (Target, error) {
	switch {
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil {
			return Target{}, fmt.Errorf("notify target %s: %v", redact(s), err)
		}
		if u.Host == "" {
			return Target{}, fmt.Errorf("notify target %s: no host", redact(s))
		}
		return Target{raw: s, kind: Webhook, url: u}, nil
	case strings.HasPrefix(s, "mailto:"):
		addr := strings.TrimPrefix(s, "mailto:")
		if strings.ContainsAny(addr, "\r\n,;<> ") || addr == "" {
			return Target{}, fmt.Errorf("notify target %q: want mailto: with one plain address (user@example.org)", s)
		}
		if _, err := mail.ParseAddress(addr); err != nil {
			return Target{}, fmt.Errorf("notify target %q: %v", s, err)
		}
		return Target{raw: s, kind: Mail, addr: addr}, nil
	}
	return Target{}, fmt.Errorf("notify target %q: want an http://, https:// or mailto: URL", redact(s))
}

// Kind returns how t is reached.
func (t Target) Kind() Kind { return t.kind }

// String names t without the path and query of a webhook URL, which often
// hold a token: it is what errors and the memory file show.
func (t Target) String() string { return redact(t.raw) }

// redact keeps the scheme and host of a URL.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		r := u.Scheme + "://" + u.Host
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			r += "/…"
		}
		return r
	}
	if strings.HasPrefix(s, "mailto:") {
		return s
	}
	return "(unparsable target)"
}

// Options tune delivery. The zero value uses the defaults below.
type Options struct {
	// Secret, when set, signs webhook bodies: header
	// X-Mailaudit-Signature: sha256=<hex HMAC-SHA256 of the body>.
	Secret []byte
	// Sendmail is the program mail goes through (default
	// /usr/sbin/sendmail), run as "Sendmail -t".
	Sendmail string
	// Timeout bounds one webhook request or one sendmail run
	// (default 10s).
	Timeout time.Duration
	// Attempts is how often a webhook request is tried (default 4).
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// later one (default 1s).
	Backoff time.Duration
	// Client sends the webhook requests (default: a client that follows
	// no redirects).
	Client *http.Client
	// UserAgent is sent with webhook requests (default "mailaudit").
	UserAgent string
	// Host names the machine in mail subjects.
	Host string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultSendmail is where a mail server has its sendmail.
const DefaultSendmail = "/usr/sbin/sendmail"

func (o Options) withDefaults() Options {
	if o.Sendmail == "" {
		o.Sendmail = DefaultSendmail
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if o.UserAgent == "" {
		o.UserAgent = "mailaudit"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// A Notifier delivers items to its targets, each at most once per target
// as far as its Memory remembers.
type Notifier struct {
	targets []Target
	opts    Options
	mem     *Memory
}

// New returns a Notifier for targets. mem remembers what was sent and what
// is owed; a nil mem remembers for the life of the Notifier only.
func New(targets []Target, opts Options, mem *Memory) *Notifier {
	if mem == nil {
		mem = NewMemory("")
	}
	return &Notifier{targets: targets, opts: opts.withDefaults(), mem: mem}
}

// Pending returns how many deliveries are owed, over all targets.
func (n *Notifier) Pending() int {
	c := 0
	for _, t := range n.targets {
		c += len(n.mem.target(t).Pending)
	}
	return c
}

// Send delivers to every target the items it owes it from earlier Sends
// and those of items it was not sent yet, then saves the memory. Items a
// target could not take stay owed to it. The error names each target that
// failed; delivery to the others goes on.
func (n *Notifier) Send(ctx context.Context, items []Item) error {
	var errs []error
	now := n.opts.Now()
	for _, t := range n.targets {
		tm := n.mem.target(t)
		queue := tm.Pending
		owed := make(map[string]bool, len(queue))
		for _, it := range queue {
			owed[it.Key] = true
		}
		for _, it := range items {
			if _, sent := tm.Sent[it.Key]; sent || owed[it.Key] {
				continue
			}
			owed[it.Key] = true
			queue = append(queue, it)
		}
		if len(queue) == 0 {
			continue
		}
		var done int
		var err error
		switch t.kind {
		case Webhook:
			done, err = n.postAll(ctx, t, queue)
		case Mail:
			if err = n.mail(ctx, t, queue); err == nil {
				done = len(queue)
			}
		}
		for _, it := range queue[:done] {
			tm.Sent[it.Key] = now
		}
		tm.Pending = append([]Item(nil), queue[done:]...)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify %s: %w (%d finding(s) kept to retry)", t, err, len(tm.Pending)))
		}
	}
	n.mem.prune(now)
	if err := n.mem.Save(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// postAll posts queue in order and returns how many were delivered: it
// stops at the first item that fails every attempt (a receiver that is
// down fails the next ones too).
func (n *Notifier) postAll(ctx context.Context, t Target, queue []Item) (int, error) {
	for i, it := range queue {
		if err := n.post(ctx, t, it.Body); err != nil {
			return i, err
		}
	}
	return len(queue), nil
}
