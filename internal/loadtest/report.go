// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a harness run: every scenario's numbers and the headline
// ratios of keygate to the baseline.
type Report struct {
	Started   time.Time        `json:"started"`
	Finished  time.Time        `json:"finished"`
	Machine   Machine          `json:"machine"`
	Config    Config           `json:"config"`
	Notes     []string         `json:"notes,omitempty"`
	Headline  Headline         `json:"headline"`
	Scenarios []ScenarioResult `json:"scenarios"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

// ThisMachine describes the machine the caller runs on.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	// runtime.NumCPU counts only the CPUs this process may run on (the
	// harness pins itself to one); the machine's count is in cpuinfo.
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			switch {
			case !ok:
			case strings.TrimSpace(k) == "processor":
				n++
			case strings.TrimSpace(k) == "model name" && m.CPUModel == "":
				m.CPUModel = strings.TrimSpace(v)
			}
		}
		if n > 0 {
			m.CPUs = n
		}
	}
	return m
}

// Headline is the comparison the issue asks for, keygate against the bare
// reverse proxy in the same run. A ratio is 0 when its scenario did not
// run.
type Headline struct {
	// ThroughputRatio is keygate's closed-loop chat req/s over the
	// baseline's.
	ThroughputRatio float64 `json:"throughput_ratio"`
	// CPURatio is keygate's CPU per request over the baseline's (chat,
	// closed loop).
	CPURatio float64 `json:"cpu_ratio"`
	// AddedP50 and AddedP99 are keygate's open-loop chat latency minus the
	// baseline's, in microseconds, at OpenFraction of the baseline's max.
	AddedP50 float64 `json:"added_p50_us"`
	AddedP99 float64 `json:"added_p99_us"`
	// PeakRSSMiB is keygate's (and the baseline's) peak resident memory
	// in the closed-loop chat run.
	PeakRSSMiB         float64 `json:"peak_rss_mib"`
	BaselinePeakRSSMiB float64 `json:"baseline_peak_rss_mib"`
	// StreamKiB is keygate's resident memory per open stream.
	StreamKiB float64 `json:"per_stream_kib"`
	// StreamCPURatio and StreamTTFBAdded compare the streaming runs.
	StreamCPURatio  float64 `json:"stream_cpu_ratio"`
	StreamTTFBAdded float64 `json:"stream_ttfb_added_p50_us"`
	Checks          []Check `json:"checks"`
	// Ratios compare each gateway of the run with the baseline in the
	// closed-loop chat scenario: keygate, keygate on PostgreSQL, the peer
	// (Portkey), then any other build.
	Ratios []Ratio `json:"ratios"`
}

// Ratio is one gateway's closed-loop chat numbers over the baseline's in
// the same run. The ratios are 0 when either side was not measured;
// Skipped then says why, when the target was left out on purpose.
type Ratio struct {
	Target string  `json:"target"`
	RPS    float64 `json:"rps,omitempty"`
	// Throughput is req/s over the baseline's; CPU is CPU per request
	// over the baseline's; PeakRSS is peak resident memory over the
	// baseline's.
	Throughput float64 `json:"throughput_ratio,omitempty"`
	CPU        float64 `json:"cpu_ratio,omitempty"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	PeakRSS    float64 `json:"peak_rss_ratio,omitempty"`
	// Errors are the target's failed calls in the run: ratios of a
	// target with errors compare its successful calls only.
	Errors  uint64 `json:"errors,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

// Check is one target of the issue and whether this run met it.
// Unresolved, when set, says why this run cannot judge it (the harness's
// own noise exceeds the target); Pass is then false.
type Check struct {
	Name       string  `json:"name"`
	Value      float64 `json:"value"`
	Target     string  `json:"target"`
	Pass       bool    `json:"pass"`
	Unresolved string  `json:"unresolved,omitempty"`
}

// resolvable returns why a latency target of limit µs cannot be judged
// when calling the fake directly, with no proxy, already takes more than
// ten times that at the same percentile: the generator's and the fake's
// own queueing then hides what a proxy adds. It returns "" when it can.
func resolvable(direct float64, limit float64) string {
	if direct > 10*limit {
		return fmt.Sprintf("the direct calls alone took %.0f µs", direct)
	}
	return ""
}

func find(rep *Report, scenario string) *ScenarioResult {
	for i := range rep.Scenarios {
		if rep.Scenarios[i].Name == scenario {
			return &rep.Scenarios[i]
		}
	}
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ratios compares the gateways of the chat scenario with the baseline.
func ratios(rep *Report, t Targets) []Ratio {
	var out []Ratio
	s := find(rep, ScenarioChat)
	for _, tg := range append([]Target{t.Keygate, t.Postgres, t.Peer}, t.Others...) {
		switch {
		case tg.Skipped != "":
			out = append(out, Ratio{Target: tg.Name, Skipped: tg.Skipped})
			continue
		case tg.Unsupported[KindChat] != "":
			out = append(out, Ratio{Target: tg.Name, Skipped: tg.Unsupported[KindChat]})
			continue
		case tg.URL == "" || s == nil:
			continue
		}
		x, ok := s.result(tg.Name)
		if !ok {
			continue
		}
		r := Ratio{Target: tg.Name, RPS: x.RPS, Errors: x.Errors}
		if b, ok := s.result(t.Baseline.Name); ok {
			r.Throughput = ratio(x.RPS, b.RPS)
			if x.Server != nil && b.Server != nil {
				r.CPU = ratio(x.Server.CPUPer1k, b.Server.CPUPer1k)
				r.PeakRSSMiB = x.Server.PeakRSSMiB
				r.PeakRSS = ratio(x.Server.PeakRSSMiB, b.Server.PeakRSSMiB)
			}
		}
		out = append(out, r)
	}
	return out
}

func headline(rep *Report, t Targets) Headline {
	h := Headline{Ratios: ratios(rep, t)}
	if s := find(rep, ScenarioChat); s != nil {
		k, ok1 := s.result(t.Keygate.Name)
		b, ok2 := s.result(t.Baseline.Name)
		if ok1 && ok2 {
			h.ThroughputRatio = ratio(k.RPS, b.RPS)
			h.Checks = append(h.Checks, Check{"throughput vs baseline (chat, closed loop)", h.ThroughputRatio, ">= 0.90", h.ThroughputRatio >= 0.9, ""})
			if k.Server != nil && b.Server != nil {
				h.CPURatio = ratio(k.Server.CPUPer1k, b.Server.CPUPer1k)
				h.PeakRSSMiB, h.BaselinePeakRSSMiB = k.Server.PeakRSSMiB, b.Server.PeakRSSMiB
				h.Checks = append(h.Checks,
					Check{"CPU per request vs baseline (chat)", h.CPURatio, "<= 1.15", h.CPURatio <= 1.15, ""},
					Check{fmt.Sprintf("peak RSS at %d connections (MiB)", rep.Config.Concurrency), h.PeakRSSMiB, "< 64", h.PeakRSSMiB < 64, ""})
			}
		}
	}
	if s := find(rep, ScenarioChatOpen); s != nil {
		if k, ok := s.result(t.Keygate.Name); ok && k.AddedVsBaseline != nil {
			h.AddedP50, h.AddedP99 = k.AddedVsBaseline.P50, k.AddedVsBaseline.P99
			p50 := Check{"added p50 over baseline at 50% load (µs)", h.AddedP50, "<= 50", h.AddedP50 <= 50, ""}
			p99 := Check{"added p99 over baseline at 50% load (µs)", h.AddedP99, "<= 200", h.AddedP99 <= 200, ""}
			if d, ok := s.result(t.Direct.Name); ok {
				p50.Unresolved, p99.Unresolved = resolvable(d.Latency.P50, 50), resolvable(d.Latency.P99, 200)
			}
			for _, c := range []*Check{&p50, &p99} {
				if c.Unresolved != "" {
					c.Pass = false
				}
			}
			h.Checks = append(h.Checks, p50, p99)
		}
	}
	if s := find(rep, ScenarioStream); s != nil {
		k, ok1 := s.result(t.Keygate.Name)
		b, ok2 := s.result(t.Baseline.Name)
		if ok1 && ok2 && k.Server != nil && b.Server != nil {
			h.StreamCPURatio = ratio(k.Server.CPUPer1k, b.Server.CPUPer1k)
		}
		if ok1 && ok2 && k.TTFB != nil && b.TTFB != nil {
			h.StreamTTFBAdded = k.TTFB.P50 - b.TTFB.P50
		}
	}
	if s := find(rep, ScenarioOpenStreams); s != nil {
		for _, m := range s.Streams {
			if m.Target == t.Keygate.Name {
				h.StreamKiB = m.PerStreamKiB
				h.Checks = append(h.Checks, Check{"memory per open stream (KiB)", h.StreamKiB, "< 64", h.StreamKiB < 64, ""})
			}
		}
	}
	return h
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteTable writes the report as text tables: one per scenario, then the
// headline.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "machine: %d CPUs, %s, %s, %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.OS, r.Machine.GoVersion)
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "note: %s\n", n)
	}
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "\n== %s: %s\n", s.Name, s.Description)
		if len(s.Results) > 0 {
			fmt.Fprintln(tw, "target\treq/s\tp50 µs\tp90 µs\tp99 µs\tp99.9 µs\t+p50 vs direct\t+p99 vs direct\t+p50 vs base\t+p99 vs base\tCPU s/1k req\tpeak RSS MiB\tallocs/req\terrors\tgen CPU s/1k\tgen CPU %\t")
			for _, x := range s.Results {
				fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.3f\t%s\t\n",
					x.Target, x.RPS, x.Latency.P50, x.Latency.P90, x.Latency.P99, x.Latency.P999,
					added(x.AddedVsDirect, 50), added(x.AddedVsDirect, 99), added(x.AddedVsBaseline, 50), added(x.AddedVsBaseline, 99),
					usage(x.Server, func(u *Usage) float64 { return u.CPUPer1k }, "%.3f"),
					usage(x.Server, func(u *Usage) float64 { return u.PeakRSSMiB }, "%.1f"),
					opt(x.AllocsPerRequest, "%.0f"), x.Errors, x.Generator.CPUPer1k, opt(percent(x.Generator.CPUSeconds, x.Seconds), "%.0f"))
			}
			if s.Workload.Kind == KindStream {
				fmt.Fprintln(tw, "target\tTTFB p50 µs\tTTFB p99 µs\tchunk gap p50 µs\tchunk gap p99 µs\tchunk gap p99.9 µs\t")
				for _, x := range s.Results {
					if x.TTFB != nil && x.ChunkGap != nil {
						fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", x.Target, x.TTFB.P50, x.TTFB.P99, x.ChunkGap.P50, x.ChunkGap.P99, x.ChunkGap.P999)
					}
				}
			}
			for _, x := range s.Results {
				if x.FirstError != "" {
					fmt.Fprintf(tw, "errors of %s: %s; the first: %s\n", x.Target, kinds(x.ErrorKinds), x.FirstError)
				}
				if x.UpstreamAnswered != nil && *x.UpstreamAnswered < x.Requests {
					fmt.Fprintf(tw, "warning: %s gave %d answers but the fake answered only %d calls: some answers did not come from the fake\n", x.Target, x.Requests, *x.UpstreamAnswered)
				}
			}
		}
		for _, sk := range s.Skipped {
			fmt.Fprintf(tw, "%s\n", sk)
		}
		if len(s.Streams) > 0 {
			fmt.Fprintln(tw, "target\tstreams open\tRSS idle MiB\tRSS open MiB\tKiB per stream\terrors\t")
			for _, m := range s.Streams {
				fmt.Fprintf(tw, "%s\t%d/%d\t%.1f\t%.1f\t%.1f\t%d\t\n", m.Target, m.Opened, m.Streams, m.BeforeMiB, m.DuringMiB, m.PerStreamKiB, m.Errors)
			}
		}
	}
	h := r.Headline
	if len(h.Ratios) > 0 {
		fmt.Fprintf(tw, "\n== ratios over the bare reverse proxy (closed-loop chat, same run)\n")
		fmt.Fprintln(tw, "target\treq/s\treq/s ratio\tCPU/req ratio\tpeak RSS MiB\tpeak RSS ratio\terrors\t")
		for _, x := range h.Ratios {
			if x.Skipped != "" {
				fmt.Fprintf(tw, "%s: skipped (%s)\n", x.Target, x.Skipped)
				continue
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t\n", x.Target, x.RPS, opt(x.Throughput, "%.2f"), opt(x.CPU, "%.2f"), opt(x.PeakRSSMiB, "%.1f"), opt(x.PeakRSS, "%.2f"), x.Errors)
		}
	}
	fmt.Fprintf(tw, "\n== headline: keygate / bare reverse proxy, same run\n")
	fmt.Fprintln(tw, "check\tvalue\ttarget\tmet\t")
	for _, c := range h.Checks {
		met := "yes"
		switch {
		case c.Unresolved != "":
			met = "not resolvable here: " + c.Unresolved
		case !c.Pass:
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t\n", c.Name, c.Value, c.Target, met)
	}
	if h.StreamCPURatio > 0 {
		fmt.Fprintf(tw, "streaming CPU per call vs baseline\t%.2f\t\t\t\n", h.StreamCPURatio)
		fmt.Fprintf(tw, "streaming TTFB p50 added over baseline (µs)\t%.0f\t\t\t\n", h.StreamTTFBAdded)
	}
	if h.BaselinePeakRSSMiB > 0 {
		fmt.Fprintf(tw, "baseline peak RSS (MiB)\t%.1f\t\t\t\n", h.BaselinePeakRSSMiB)
	}
	return tw.Flush()
}

func added(p *Percentiles, which int) string {
	if p == nil || !p.Valid {
		return "-"
	}
	v := p.P50
	if which == 99 {
		v = p.P99
	}
	return fmt.Sprintf("%+.0f", v)
}

// percent is part over whole in percent, 0 when whole is.
func percent(part, whole float64) float64 {
	if whole == 0 {
		return 0
	}
	return part / whole * 100
}

// kinds lists error counts by kind, the most frequent first.
func kinds(m map[string]uint64) string {
	type kc struct {
		kind string
		n    uint64
	}
	var all []kc
	for k, n := range m {
		all = append(all, kc{k, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].kind < all[j].kind
	})
	var parts []string
	for _, x := range all {
		parts = append(parts, fmt.Sprintf("%d × %s", x.n, x.kind))
	}
	return strings.Join(parts, ", ")
}

func usage(u *Usage, f func(*Usage) float64, format string) string {
	if u == nil {
		return "-"
	}
	return fmt.Sprintf(format, f(u))
}

func opt(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
