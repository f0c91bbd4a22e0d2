// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/fakeprovider"
)

// soakDuration is how long TestSoak runs: KEYGATE_SOAK (a duration, e.g.
// 10m), else a few seconds so the ordinary test run stays quick. CI sets
// 60s.
func soakDuration(tb testing.TB) time.Duration {
	if v := os.Getenv("KEYGATE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			tb.Fatalf("KEYGATE_SOAK: %v", err)
		}
		return d
	}
	return 3 * time.Second
}

// writeHeapProfile writes the process's heap profile to
// $KEYGATE_SOAK_PROFILE/heap-<name>.pprof when that directory is set, so a
// long soak's growth can be read with `go tool pprof -base`.
func writeHeapProfile(tb testing.TB, name string) {
	dir := os.Getenv("KEYGATE_SOAK_PROFILE")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, "heap-"+name+".pprof"))
	if err != nil {
		tb.Fatalf("heap profile: %v", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatalf("heap profile: %v", err)
	}
}

// TestSoak runs mixed traffic — plain and streamed calls, provider 429s and
// 500s, clients that hang up mid-stream — while the key is rotated, and
// checks that every call that failed was failed by the provider (or by the
// client leaving), and that goroutines and the live heap return to within
// a stated bound of where they started. KEYGATE_SOAK_PROFILE=DIR also
// writes heap profiles at the start and the end.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	fake := fakeprovider.Start(t)
	env := fakeProviderEnv(fake)
	s := MustServe(t, t.TempDir(), env)
	s.Logs.Discard()
	ctx := context.Background()
	c := s.MustTenant(t, "acme")
	if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret("sk-soakKey000000000000000000000")); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateGatewayToken(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	// settle lets in-flight work end and returns the goroutine count, the
	// live heap (bytes of reachable objects) and the heap's in-use spans.
	// Two collections: the first moves sync.Pool contents (the proxy's
	// copy buffers) to the pools' victim caches, the second frees them, so
	// what is left is what something still holds.
	settle := func() (int, uint64, uint64) {
		fake.Reset() // the fake keeps every request it saw; that is not keygate's memory
		hc.CloseIdleConnections()
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapAlloc, m.HeapInuse
	}
	// Warm up once so lazily started parts are counted in the baseline.
	gatewayCall(t, s, tok.Token.Reveal(), `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	g0, h0, s0 := settle()
	writeHeapProfile(t, "start")

	var ok, providerFailed, clientLeft, unexplained atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(stop) {
				stream := r.IntN(2) == 0
				body := `{"model":"gpt-4o","stream":` + fmt.Sprint(stream) + `,"messages":[{"role":"user","content":"a b c d e f"}]}`
				cctx, cancel := context.WithCancel(ctx)
				req, _ := http.NewRequestWithContext(cctx, "POST", s.URL+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok.Token.Reveal())
				fault := ""
				switch n := r.IntN(10); {
				case n == 0:
					fault = "status=500"
				case n == 1:
					fault = "status=429,retry_after=1"
				case n == 2 && stream:
					fault = "stall_after=3"
				}
				if fault != "" {
					req.Header.Set(fakeprovider.FaultHeader, fault)
				}
				resp, err := hc.Do(req)
				switch {
				case err != nil:
					unexplained.Add(1)
				case strings.HasPrefix(fault, "stall"):
					buf := make([]byte, 256)
					_, _ = resp.Body.Read(buf)
					cancel() // the client leaves mid-stream
					resp.Body.Close()
					clientLeft.Add(1)
				default:
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode == 200 && (!stream || strings.Contains(string(b), "[DONE]")):
						ok.Add(1)
					case fault != "" && (resp.StatusCode == 500 || resp.StatusCode == 429):
						providerFailed.Add(1)
					default:
						unexplained.Add(1)
						t.Logf("unexplained answer: %d fault %q", resp.StatusCode, fault)
					}
				}
				cancel()
			}
		}(w)
	}
	rotations := 0
	pace := time.NewTicker(100 * time.Millisecond) // ten rotations a second
	defer pace.Stop()
	for time.Now().Before(stop) {
		if _, err := c.PutKey(ctx, "acme", "openai", keygate.NewSecret(fmt.Sprintf("sk-soakKey%020d", rotations))); err != nil {
			t.Errorf("rotation: %v", err)
		}
		rotations++
		<-pace.C
	}
	wg.Wait()
	g1, h1, s1 := settle()
	writeHeapProfile(t, "end")
	t.Logf("soak %v: %d ok, %d failed by the provider, %d clients left mid-stream, %d unexplained; %d rotations; goroutines %d → %d; live heap %d KiB → %d KiB (heap spans in use %d KiB → %d KiB)",
		d, ok.Load(), providerFailed.Load(), clientLeft.Load(), unexplained.Load(), rotations, g0, g1, h0>>10, h1>>10, s0>>10, s1>>10)
	if unexplained.Load() != 0 {
		t.Errorf("%d calls failed for a reason the provider did not cause", unexplained.Load())
	}
	if ok.Load() == 0 || providerFailed.Load() == 0 {
		t.Error("the traffic mix did not happen")
	}
	// The bounds: idle HTTP connections and their goroutines come and go
	// with the traffic; the live heap and the heap's spans may grow by
	// what bounded caches and pools hold once warm, and no more. (Spans
	// are bounded too: a few long-lived objects allocated among much
	// garbage each pin a whole span — the data-key cache used to keep one
	// entry per rotated version and so pinned 57 MiB of spans in 10
	// minutes while the live heap grew by 4 MiB.)
	const goroutineBound, heapBound, spanBound = 25, 8 << 20, 16 << 20
	if g1 > g0+goroutineBound {
		t.Errorf("goroutines grew from %d to %d (bound +%d)", g0, g1, goroutineBound)
	}
	if h1 > h0+heapBound {
		t.Errorf("live heap grew from %d to %d bytes (bound +%d)", h0, h1, heapBound)
	}
	if s1 > s0+spanBound {
		t.Errorf("heap spans in use grew from %d to %d bytes (bound +%d)", s0, s1, spanBound)
	}
}
