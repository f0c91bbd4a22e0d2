// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestServeBufferedLog: with a flush interval, access-log lines wait in
// memory and are written together, and all of them are written when the
// server stops.
func TestServeBufferedLog(t *testing.T) {
	s := MustServe(t, t.TempDir(), map[string]string{"KEYGATE_LOG_FLUSH_INTERVAL": "10s"})
	countRequests := func() int {
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(s.Logs.Bytes()))
		for sc.Scan() {
			var rec struct{ Msg, Path string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "request" && rec.Path == "/healthz" {
				n++
			}
		}
		return n
	}
	const calls = 50
	for range calls {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := countRequests(); n != 0 {
		t.Errorf("%d access-log lines were written before the 10 s interval; want them held", n)
	}
	// (That warnings and errors are written at once is logbuf's own test.)
	start := time.Now()
	s.Stop(t)
	if n := countRequests(); n != calls {
		t.Errorf("after stop: %d access-log lines, want %d", n, calls)
	}
	t.Logf("%d access-log lines held and written at stop (after %v)", calls, time.Since(start).Round(time.Millisecond))
}
