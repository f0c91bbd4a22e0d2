// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"runtime/metrics"
	"strconv"
	"strings"
)

// MallocsMetric is the Prometheus metric (of the Go collector) that counts
// heap allocations; keygate's /metrics serves it, and so does
// MallocsHandler.
const MallocsMetric = "go_memstats_mallocs_total"

// MallocsHandler serves the calling process's heap allocation count in the
// Prometheus text format, for the harness's own server processes (the
// baseline and the fake), which have no /metrics.
func MallocsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
		metrics.Read(s)
		var n uint64
		if s[0].Value.Kind() == metrics.KindUint64 {
			n = s[0].Value.Uint64()
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "%s %d\n", MallocsMetric, n)
	})
}

// ScrapeMallocs returns a function that reads MallocsMetric from the
// Prometheus endpoint at url.
func ScrapeMallocs(client *http.Client, url string) func(context.Context) (uint64, error) {
	return ScrapeCounter(client, url, MallocsMetric)
}

// ScrapeCounter returns a function that reads the counter metric from the
// Prometheus endpoint at url (MallocsMetric from keygate's /metrics,
// AnsweredMetric from the fake's).
func ScrapeCounter(client *http.Client, url, metric string) func(context.Context) (uint64, error) {
	return func(ctx context.Context) (uint64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("scrape %s: %w", url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("scrape %s: HTTP %d", url, resp.StatusCode)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, metric+" "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return 0, fmt.Errorf("scrape %s: %s: %w", url, metric, err)
				}
				return uint64(f), nil
			}
		}
		if err := sc.Err(); err != nil {
			return 0, fmt.Errorf("scrape %s: %w", url, err)
		}
		return 0, fmt.Errorf("scrape %s: no %s", url, metric)
	}
}
