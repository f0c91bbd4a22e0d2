// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// Targets are the servers a harness run compares. A target with an empty
// URL is left out of every scenario.
type Targets struct {
	// Direct is the upstream fake itself: what the proxies add is measured
	// against it.
	Direct Target
	// Baseline is the bare reverse proxy (NewBaseline).
	Baseline Target
	// Keygate is keygate with a BYOK tenant's gateway token (tenant key).
	Keygate Target
	// GovernedTenant and GovernedPlatform are the same keygate with the
	// tokens of two tenants under a hard budget and rate limits: one paid
	// by its own key (limits on platform-paid calls do not apply to it),
	// one by the platform key.
	GovernedTenant   Target
	GovernedPlatform Target
	// Many is the same keygate with the tokens of many tenants, one per
	// request in turn (the resolver's caches under many keys).
	Many Target
	// Postgres is a second keygate on the PostgreSQL backend, measured
	// beside Keygate (SQLite) in the chat scenario.
	Postgres Target
	// Peer is another gateway (Portkey) measured beside keygate and the
	// baseline in the chat, stream and embeddings scenarios, as far as
	// its Unsupported allows.
	Peer Target
	// Others are more keygate servers (other builds, other settings)
	// measured beside Keygate in the chat, chat-open, stream and
	// embeddings scenarios, so that a change's gain is a ratio within one
	// run. Each needs a distinct Name.
	Others []Target
}

// named gives the targets their report names; the comparisons find the
// direct target and the baseline by them.
func (t Targets) named() Targets {
	t.Direct.Name, t.Baseline.Name = "direct", "baseline"
	for _, x := range []struct {
		t    *Target
		name string
	}{{&t.Keygate, "keygate"}, {&t.GovernedTenant, "keygate-tenant-key"}, {&t.GovernedPlatform, "keygate-platform-key"}, {&t.Many, "keygate"}, {&t.Postgres, "keygate-pg"}, {&t.Peer, "portkey"}} {
		if x.t.Name == "" {
			x.t.Name = x.name
		}
	}
	return t
}

// Config is a harness run.
type Config struct {
	Targets Targets `json:"-"`
	// Concurrency of the closed loops (and the cap on requests in flight
	// in the open loops). Default 64.
	Concurrency int `json:"concurrency"`
	// Duration and Warmup of each measured run; MaxRequests, if positive,
	// also ends a run. Defaults 10s and 2s.
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	MaxRequests int           `json:"max_requests,omitempty"`
	// OpenFraction is the open-loop rate as a fraction of the baseline's
	// closed-loop throughput in the chat scenario (default 0.5); Rate is
	// used instead when the chat scenario did not run.
	OpenFraction float64 `json:"open_fraction"`
	Rate         float64 `json:"rate,omitempty"`
	// StreamChunks and StreamInterval shape the streaming scenario.
	StreamChunks   int           `json:"stream_chunks"`
	StreamInterval time.Duration `json:"stream_interval_ns"`
	// OpenStreams streams are held open at once in the open-streams
	// scenario, each lasting about StreamHold.
	OpenStreams int           `json:"open_streams"`
	StreamHold  time.Duration `json:"stream_hold_ns"`
	// Rounds is how many times each scenario measures each target, in
	// turn (default 1); a target's rounds are summed.
	Rounds int `json:"rounds"`
	// Only lists the scenarios to run (Scenarios names them); empty: all.
	Only []string `json:"only,omitempty"`
	// Progress, if set, receives a line per run.
	Progress io.Writer `json:"-"`
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	} else if c.Warmup == 0 {
		c.Warmup = 2 * time.Second
	}
	if c.OpenFraction <= 0 {
		c.OpenFraction = 0.5
	}
	if c.StreamChunks <= 0 {
		c.StreamChunks = 20
	}
	if c.OpenStreams <= 0 {
		c.OpenStreams = 1000
	}
	if c.StreamHold <= 0 {
		c.StreamHold = 20 * time.Second
	}
	if c.Rounds <= 0 {
		c.Rounds = 1
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Scenario names, in the order they run.
const (
	ScenarioChat        = "chat"         // non-streaming chat, closed loop
	ScenarioChatOpen    = "chat-open"    // non-streaming chat, open loop at a fraction of the baseline's max
	ScenarioStream      = "stream"       // streaming chat, closed loop
	ScenarioEmbeddings  = "embeddings"   // embeddings, closed loop
	ScenarioGoverned    = "governed"     // tenant key vs platform key under budget and limits
	ScenarioTenants     = "tenants"      // many tenants: a cold pass, then warm
	ScenarioOpenStreams = "open-streams" // memory per open stream
)

// Scenarios lists every scenario name in run order.
func Scenarios() []string {
	return []string{ScenarioChat, ScenarioChatOpen, ScenarioStream, ScenarioEmbeddings, ScenarioGoverned, ScenarioTenants, ScenarioOpenStreams}
}

// ScenarioResult is one scenario's numbers.
type ScenarioResult struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Workload    Workload       `json:"workload"`
	Load        Load           `json:"load"`
	Results     []Result       `json:"results,omitempty"`
	Streams     []StreamMemory `json:"streams,omitempty"`
	// Skipped lists the targets this scenario left out because they cannot
	// carry its workload, with the reason ("portkey: skipped (...)").
	Skipped []string `json:"skipped,omitempty"`
}

// result returns the named target's result.
func (s *ScenarioResult) result(target string) (Result, bool) {
	for _, r := range s.Results {
		if r.Target == target {
			return r, true
		}
	}
	return Result{}, false
}

// Run runs the scenarios of cfg and returns the report. It fails only when
// a run could not be made; failed requests are reported, not returned.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	rep := &Report{Started: time.Now().UTC(), Machine: ThisMachine(), Config: cfg}
	want := func(name string) bool { return len(cfg.Only) == 0 || slices.Contains(cfg.Only, name) }
	t := cfg.Targets.named()
	for _, tg := range append([]Target{t.Postgres, t.Peer}, t.Others...) {
		if tg.Skipped != "" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: skipped (%s)", tg.Name, tg.Skipped))
		}
	}
	closed := Load{Mode: Closed, Concurrency: cfg.Concurrency, Duration: cfg.Duration, Warmup: cfg.Warmup, MaxRequests: cfg.MaxRequests}

	// run measures the targets in cfg.Rounds interleaved rounds and sums
	// each target's rounds.
	run := func(s *ScenarioResult, targets ...Target) error {
		var live []Target
		for _, tg := range targets {
			if why := tg.Unsupported[s.Workload.Kind]; why != "" && tg.Skipped == "" {
				s.Skipped = append(s.Skipped, fmt.Sprintf("%s: skipped (%s)", tg.Name, why))
				continue
			}
			if tg.URL != "" && tg.Skipped == "" {
				live = append(live, tg)
			}
		}
		accs := make([]*Accumulator, len(live))
		for i, tg := range live {
			accs[i] = NewAccumulator(tg.Name, s.Workload)
		}
		for range cfg.Rounds {
			for i, tg := range live {
				if err := accs[i].Measure(ctx, tg, s.Load); err != nil {
					return fmt.Errorf("%s on %s: %w", s.Name, tg.Name, err)
				}
			}
		}
		for _, a := range accs {
			r := a.Result()
			fmt.Fprintf(cfg.Progress, "%-13s %-16s %9.0f req/s  p50 %7.0fµs  p99 %7.0fµs  CPU %.3fs/1k  errors %d\n", s.Name, r.Target, r.RPS, r.Latency.P50, r.Latency.P99, cpuPer1k(r), r.Errors)
			s.Results = append(s.Results, r)
		}
		s.compare()
		rep.Scenarios = append(rep.Scenarios, *s)
		return nil
	}

	rate := cfg.Rate
	if want(ScenarioChat) {
		s := &ScenarioResult{Name: ScenarioChat, Description: "non-streaming chat completion, closed loop", Workload: Workload{Kind: KindChat}, Load: closed}
		if err := run(s, append([]Target{t.Direct, t.Baseline, t.Keygate, t.Postgres, t.Peer}, t.Others...)...); err != nil {
			return rep, err
		}
		if b, ok := s.result(t.Baseline.Name); ok && b.RPS > 0 {
			rate = b.RPS * cfg.OpenFraction
		}
	}
	if want(ScenarioChatOpen) && rate > 0 {
		l := Load{Mode: Open, Rate: rate, Concurrency: cfg.Concurrency * 4, Duration: cfg.Duration, Warmup: cfg.Warmup, MaxRequests: cfg.MaxRequests}
		s := &ScenarioResult{Name: ScenarioChatOpen, Description: fmt.Sprintf("non-streaming chat, open loop at %.0f req/s (%.0f%% of the baseline's closed-loop max); latency from the intended send time", rate, cfg.OpenFraction*100), Workload: Workload{Kind: KindChat}, Load: l}
		if err := run(s, append([]Target{t.Direct, t.Baseline, t.Keygate}, t.Others...)...); err != nil {
			return rep, err
		}
	}
	if want(ScenarioStream) {
		s := &ScenarioResult{Name: ScenarioStream, Description: fmt.Sprintf("streaming chat, %d chunks %s apart, closed loop", cfg.StreamChunks, cfg.StreamInterval), Workload: Workload{Kind: KindStream, Chunks: cfg.StreamChunks, Interval: cfg.StreamInterval}, Load: closed}
		if err := run(s, append([]Target{t.Direct, t.Baseline, t.Keygate, t.Peer}, t.Others...)...); err != nil {
			return rep, err
		}
	}
	if want(ScenarioEmbeddings) {
		s := &ScenarioResult{Name: ScenarioEmbeddings, Description: "embeddings, closed loop", Workload: Workload{Kind: KindEmbeddings}, Load: closed}
		if err := run(s, append([]Target{t.Direct, t.Baseline, t.Keygate, t.Peer}, t.Others...)...); err != nil {
			return rep, err
		}
	}
	if want(ScenarioGoverned) && (t.GovernedTenant.URL != "" || t.GovernedPlatform.URL != "") {
		s := &ScenarioResult{Name: ScenarioGoverned, Description: "chat on the tenant's key vs on the platform key, both tenants with a hard budget and in-memory RPM/TPM limits (which apply to platform-paid calls)", Workload: Workload{Kind: KindChat}, Load: closed}
		if err := run(s, t.Baseline, t.Keygate, t.GovernedTenant, t.GovernedPlatform); err != nil {
			return rep, err
		}
	}
	if want(ScenarioTenants) && t.Many.URL != "" {
		cold := t.Many
		cold.Name = t.Many.Name + "-cold"
		s := &ScenarioResult{Name: ScenarioTenants, Description: fmt.Sprintf("chat across %d tenants, one token each in turn: a cold pass (each token's first call: token, tenant and key from storage), then warm", len(t.Many.Tokens)),
			Workload: Workload{Kind: KindChat}, Load: closed}
		r, err := Measure(ctx, cold, s.Workload, Load{Mode: Closed, Concurrency: cfg.Concurrency, Duration: 10 * time.Minute, MaxRequests: len(cold.Tokens)})
		if err != nil {
			return rep, fmt.Errorf("%s cold: %w", s.Name, err)
		}
		fmt.Fprintf(cfg.Progress, "%-13s %-16s %9.0f req/s  p50 %7.0fµs  p99 %7.0fµs  CPU %.3fs/1k  errors %d\n", s.Name, r.Target, r.RPS, r.Latency.P50, r.Latency.P99, cpuPer1k(r), r.Errors)
		s.Results = append(s.Results, r)
		warm := t.Many
		warm.Name = t.Many.Name + "-warm"
		if err := run(s, t.Baseline, warm); err != nil {
			return rep, err
		}
	}
	if want(ScenarioOpenStreams) {
		s := ScenarioResult{Name: ScenarioOpenStreams, Description: fmt.Sprintf("%d streaming calls held open at once: resident memory per open stream", cfg.OpenStreams),
			Workload: Workload{Kind: KindStream, Chunks: 20, Interval: cfg.StreamHold / 20}}
		for _, tg := range []Target{t.Baseline, t.Keygate} {
			if tg.URL == "" || tg.PID <= 0 {
				continue
			}
			m, err := HoldStreams(ctx, tg, cfg.OpenStreams, cfg.StreamHold, cfg.StreamHold/2)
			if err != nil {
				return rep, fmt.Errorf("%s on %s: %w", s.Name, tg.Name, err)
			}
			fmt.Fprintf(cfg.Progress, "%-13s %-16s %d/%d open  %.1f KiB per stream  errors %d\n", s.Name, tg.Name, m.Opened, m.Streams, m.PerStreamKiB, m.Errors)
			s.Streams = append(s.Streams, m)
		}
		rep.Scenarios = append(rep.Scenarios, s)
	}
	rep.Finished = time.Now().UTC()
	rep.Headline = headline(rep, t)
	return rep, nil
}

// compare fills each result's latency added over the direct target and
// the baseline, by the names "direct" and "baseline".
func (s *ScenarioResult) compare() {
	direct, hasDirect := s.result("direct")
	base, hasBase := s.result("baseline")
	for i := range s.Results {
		r := &s.Results[i]
		if hasDirect && r.Target != "direct" {
			d := r.Latency.Minus(direct.Latency)
			r.AddedVsDirect = &d
		}
		if hasBase && r.Target != "baseline" && r.Target != "direct" {
			d := r.Latency.Minus(base.Latency)
			r.AddedVsBaseline = &d
		}
	}
}

func cpuPer1k(r Result) float64 {
	if r.Server == nil {
		return 0
	}
	return r.Server.CPUPer1k
}
