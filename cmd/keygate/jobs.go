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
	logger *slog.Logger
	wg     sync.WaitGroup
}

func newJobs(ctx context.Context, logger *slog.Logger) *jobs {
	return &jobs{ctx: ctx, logger: logger}
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

func (j *jobs) wait() { j.wg.Wait() }
