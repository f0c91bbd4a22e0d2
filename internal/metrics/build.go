// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Build names the running binary in keygate_build_info.
type Build struct {
	Version, Commit, GoVersion string
}

// RegisterBuildInfo registers keygate_build_info{version,commit,go_version}
// on reg: a gauge that is always 1, so that a dashboard can join it to any
// series or count the versions running during a rollout.
func RegisterBuildInfo(reg prometheus.Registerer, b Build) error {
	if reg == nil {
		return errors.New("metrics: nil registerer")
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Always 1; the labels say which keygate build is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "go_version": b.GoVersion},
	})
	g.Set(1)
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("metrics: register build info: %w", err)
	}
	return nil
}
