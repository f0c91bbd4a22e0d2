// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// StreamMemory is what holding many streams open costs a server.
type StreamMemory struct {
	Target  string `json:"target"`
	Streams int    `json:"streams"`
	// Opened is how many streams delivered their first event before the
	// memory was sampled.
	Opened int `json:"opened"`
	// Before and During are the server's resident memory with no stream
	// open and with Opened streams open.
	BeforeMiB float64 `json:"rss_before_mib"`
	DuringMiB float64 `json:"rss_during_mib"`
	// PerStreamKiB is (During - Before) / Opened.
	PerStreamKiB float64 `json:"per_stream_kib"`
	Errors       uint64  `json:"errors"`
	FirstError   string  `json:"first_error,omitempty"`
}

// HoldStreams opens n streaming calls to t at once, each asking the fake
// for a stream slow enough (an event every hold/chunks) to stay open, waits
// until every stream has delivered its first event (or timeout), samples
// the server's resident memory, then cancels them all. The server's
// memory per open stream is the difference over the idle sample, divided
// by the streams open.
func HoldStreams(ctx context.Context, t Target, n int, hold, timeout time.Duration) (StreamMemory, error) {
	out := StreamMemory{Target: t.Name, Streams: n}
	if t.PID <= 0 {
		return out, fmt.Errorf("hold streams on %s: no process to measure", t.Name)
	}
	const chunks = 20
	client := newClient(n)
	defer client.CloseIdleConnections()
	cl, err := newCaller(t, Workload{Kind: KindStream, Chunks: chunks, Interval: hold / chunks}, client)
	if err != nil {
		return out, err
	}
	// Settle the heap, then take the idle sample.
	time.Sleep(200 * time.Millisecond)
	before, err := ReadMemory(t.PID)
	if err != nil {
		return out, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var opened, errs atomic.Uint64
	var firstErr atomic.Value
	allOpen := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.url, bytes.NewReader(cl.body))
			if err != nil {
				errs.Add(1)
				return
			}
			for k, v := range cl.headers {
				req.Header[k] = v
			}
			req.Header.Set("Authorization", "Bearer "+cl.tokens[i%len(cl.tokens)])
			resp, err := client.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, "HTTP "+strconv.Itoa(resp.StatusCode))
				return
			}
			buf := make([]byte, 4<<10)
			if _, err := resp.Body.Read(buf); err != nil && err != io.EOF {
				return
			}
			if int(opened.Add(1)) == n {
				once.Do(func() { close(allOpen) })
			}
			_, _ = io.Copy(io.Discard, resp.Body) // until cancelled
		})
	}
	select {
	case <-allOpen:
	case <-time.After(timeout):
	case <-ctx.Done():
	}
	during, err := ReadMemory(t.PID)
	cancel()
	wg.Wait()
	if err != nil {
		return out, err
	}
	out.Opened = int(opened.Load())
	out.Errors = errs.Load()
	if v, ok := firstErr.Load().(string); ok {
		out.FirstError = v
	}
	out.BeforeMiB, out.DuringMiB = mib(before.RSS), mib(during.RSS)
	if out.Opened > 0 {
		out.PerStreamKiB = float64(during.RSS-before.RSS) / 1024 / float64(out.Opened)
	}
	return out, nil
}
