// SPDX-License-Identifier: Apache-2.0

package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/metrics"
)

// BenchmarkObserveCall is the hot-path hook: after the first call of a
// label combination it must not allocate.
func BenchmarkObserveCall(b *testing.B) {
	m, _ := MustNew(b, metrics.Options{Providers: []string{"openai", "anthropic"}})
	evs := []keygate.UsageEvent{
		call("openai", "chat", keygate.SourcePlatform, 200),
		call("anthropic", "messages", keygate.SourceTenant, 200),
		call("openai", "embeddings", keygate.SourceRequest, 429),
	}
	for _, ev := range evs {
		m.ObserveCall(ev, time.Second)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.ObserveCall(evs[i%len(evs)], 900*time.Millisecond)
	}
}

func BenchmarkObserveCallParallel(b *testing.B) {
	m, _ := MustNew(b, metrics.Options{Providers: []string{"openai"}})
	ev := call("openai", "chat", keygate.SourcePlatform, 200)
	m.ObserveCall(ev, time.Second)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveCall(ev, 900*time.Millisecond)
		}
	})
}

func BenchmarkObserveRejection(b *testing.B) {
	m, _ := MustNew(b, metrics.Options{Providers: []string{"openai"}})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRejection("rate", "openai")
	}
}

func BenchmarkObserveCache(b *testing.B) {
	m, _ := MustNew(b, metrics.Options{})
	hit := m.CacheObserver("token")
	b.ReportAllocs()
	for b.Loop() {
		hit(true)
	}
}

func BenchmarkCallSpanNoop(b *testing.B) {
	tp, _, err := metrics.NewTracer(context.Background(), metrics.TraceConfig{})
	if err != nil {
		b.Fatal(err)
	}
	tracer := tp.Tracer(metrics.TracerName)
	ev := call("openai", "chat", keygate.SourcePlatform, 200)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := metrics.StartCallSpan(ctx, tracer, "POST /v1/chat/completions")
		metrics.EndCallSpan(span, ev)
	}
}

func BenchmarkCallSpanRecorded(b *testing.B) {
	tracer, exp := MustRecorder(b)
	ev := call("openai", "chat", keygate.SourcePlatform, 200)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := metrics.StartCallSpan(ctx, tracer, "POST /v1/chat/completions")
		metrics.EndCallSpan(span, ev)
		exp.Reset()
	}
}
