package notify

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// mail hands one message listing items to "sendmail -t".
func (n *Notifier) mail(ctx context.Context, t Target, items []Item) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.opts.Sendmail, "-t")
	cmd.Stdin = bytes.NewReader(Message(t.addr, n.opts.Host, items))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		if msg != "" {
			return fmt.Errorf("%s -t: %v: %s", n.opts.Sendmail, err, msg)
		}
		return fmt.Errorf("%s -t: %v", n.opts.Sendmail, err)
	}
	return nil
}

// Message is the mail sent to addr for items: headers for sendmail -t,
// then one line per item. Item texts must be sanitized already; line
// breaks in them are replaced so that no header or lone "." line can be
// forged.
func Message(addr, host string, items []Item) []byte {
	var b bytes.Buffer
	where := ""
	if host != "" {
		where = " on " + oneLine(host)
	}
	fmt.Fprintf(&b, "To: %s\n", addr)
	fmt.Fprintf(&b, "Subject: mailaudit: %d new finding(s)%s\n", len(items), where)
	b.WriteString("Auto-Submitted: auto-generated\n")
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\n\n")
	fmt.Fprintf(&b, "mailaudit found %d new finding(s)%s:\n\n", len(items), where)
	for _, it := range items {
		b.WriteString("- ")
		b.WriteString(oneLine(it.Text))
		b.WriteByte('\n')
	}
	b.WriteString("\nEach finding is sent once; the JSON of each is in the webhooks and `mailaudit scan --format json`.\n")
	return b.Bytes()
}

func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}
