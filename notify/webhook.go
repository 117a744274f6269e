package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SignatureHeader is the header that carries a webhook body's signature.
const SignatureHeader = "X-Mailaudit-Signature"

// Sign returns the signature header value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// errPermanent marks a response that retrying will not change.
var errPermanent = errors.New("permanent")

// post sends body to t, trying up to Attempts times with doubling waits
// between tries. Network errors, 5xx, 408 and 429 are retried; other
// non-2xx statuses (and redirects) are not.
func (n *Notifier) post(ctx context.Context, t Target, body []byte) error {
	wait := n.opts.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = n.postOnce(ctx, t, body)
		if err == nil || errors.Is(err, errPermanent) || attempt >= n.opts.Attempts {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("%w after %d attempt(s)", unwrapPermanent(err), n.opts.Attempts)
	}
	return nil
}

func unwrapPermanent(err error) error {
	var p permanentError
	if errors.As(err, &p) {
		return p.err
	}
	return err
}

type permanentError struct{ err error }

func (p permanentError) Error() string        { return p.err.Error() }
func (p permanentError) Is(target error) bool { return target == errPermanent }

func (n *Notifier) postOnce(ctx context.Context, t Target, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url.String(), bytes.NewReader(body))
	if err != nil {
		return permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.opts.UserAgent)
	if len(n.opts.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(n.opts.Secret, body))
	}
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		// The URL may hold a token: name the target, not the request.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("POST: %v", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return fmt.Errorf("POST: %s", resp.Status)
	default:
		return permanentError{fmt.Errorf("POST: %s", resp.Status)}
	}
}
