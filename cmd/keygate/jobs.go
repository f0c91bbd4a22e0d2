// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"log/slog"
	"sync"
)

// jobs runs background work that must stop with the server: each job gets a
// context cancelled at shutdown, and wait blocks until all have returned.
type jobs struct {
	ctx    context.Context
	cancel context.CancelFunc
	logger *slog.Logger
	wg     sync.WaitGroup
}

// newJobs returns jobs whose context ends with ctx or at stop.
func newJobs(ctx context.Context, logger *slog.Logger) *jobs {
	ctx, cancel := context.WithCancel(ctx)
	return &jobs{ctx: ctx, cancel: cancel, logger: logger}
}

// start runs job in a goroutine and logs its failure.
func (j *jobs) start(name string, job func(context.Context) error) {
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		if err := job(j.ctx); err != nil && j.ctx.Err() == nil {
			j.logger.Error("background job failed", "job", name, "err", err)
		}
	}()
}

// stop cancels every job's context and waits until all have returned. A
// start that fails half-way calls it too: waiting on jobs whose context
// nobody cancels would hang forever.
func (j *jobs) stop() {
	j.cancel()
	j.wg.Wait()
}
