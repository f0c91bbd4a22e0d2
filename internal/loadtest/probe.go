// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Probe sends one request of workload w to t and checks that the answer is
// the fake's: status 200, the body the fake gives for that kind, and, when
// t reports the fake's answered count, one more call answered by the fake.
// It returns why not otherwise. The harness probes a peer before measuring
// it, so that a peer that answers errors, or answers by itself, is never
// reported as fast.
func Probe(ctx context.Context, t Target, w Workload) error {
	client := newClient(1)
	defer client.CloseIdleConnections()
	cl, err := newCaller(t, w, client)
	if err != nil {
		return err
	}
	var before uint64
	if t.Upstream != nil {
		if before, err = t.Upstream(ctx); err != nil {
			return fmt.Errorf("probe %s %s: %w", t.Name, w.Kind, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.url, bytes.NewReader(cl.body))
	if err != nil {
		return err
	}
	for k, v := range cl.headers {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+cl.tokens[0])
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s %s: %w", t.Name, w.Kind, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("probe %s %s: read answer: %w", t.Name, w.Kind, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s %s: %w", t.Name, w.Kind, &statusError{resp.StatusCode, string(bytes.TrimSpace(body[:min(len(body), 200)]))})
	}
	if want := fakeMarker(w.Kind); !bytes.Contains(body, want) {
		return fmt.Errorf("probe %s %s: the answer lacks the fake's %q: %.200s", t.Name, w.Kind, want, body)
	}
	if t.Upstream != nil {
		after, err := t.Upstream(ctx)
		if err != nil {
			return fmt.Errorf("probe %s %s: %w", t.Name, w.Kind, err)
		}
		if after == before {
			return fmt.Errorf("probe %s %s: answered 200 but the fake answered no call", t.Name, w.Kind)
		}
	}
	return nil
}

// fakeMarker is a piece of every answer the fake gives to a workload of
// kind k (and of no error).
func fakeMarker(k Kind) []byte {
	switch k {
	case KindStream:
		return []byte("data: [DONE]")
	case KindEmbeddings:
		return []byte(`"object":"embedding"`)
	default:
		return []byte(`"id":"chatcmpl-bench"`)
	}
}
