// SPDX-License-Identifier: Apache-2.0

// Package logbuf batches log output: lines gather in memory and reach the
// underlying writer in one write when the buffer fills, on a timer, or at
// once after a warning or an error.
//
// A gateway writes one access-log line per call. Written one by one, each
// line is a system call on the request's path; batched, a few hundred lines
// share one. The price is that an Info line may reach the file up to one
// flush interval late, and a crash (SIGKILL) loses at most that interval's
// Info lines; warnings and errors are never held back.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer is an io.Writer that buffers what is written to it. It is safe for
// concurrent use. The zero value is not usable; use New.
type Writer struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	size int
	err  error // the last write error of out, returned (once) by the next Write or Flush
}

// New returns a Writer that writes to out in batches of up to size bytes
// (size <= 0 means 64 KiB).
func New(out io.Writer, size int) *Writer {
	if size <= 0 {
		size = 64 << 10
	}
	return &Writer{out: out, size: size, buf: make([]byte, 0, size)}
}

// Write appends p to the buffer, writing the buffer out first when p would
// not fit. A p larger than the whole buffer is written straight through.
// It returns len(p) unless out failed; a failure of an earlier background
// flush is returned here once, so it is not lost silently.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > w.size {
		w.flushLocked()
	}
	if len(p) > w.size {
		if _, err := w.out.Write(p); err != nil {
			return 0, err
		}
		return len(p), w.takeErr()
	}
	w.buf = append(w.buf, p...)
	return len(p), w.takeErr()
}

// Flush writes out whatever is buffered and returns the first write error
// since the last Write or Flush reported one.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
	return w.takeErr()
}

func (w *Writer) flushLocked() {
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil && w.err == nil {
		w.err = err
	}
	w.buf = w.buf[:0]
}

func (w *Writer) takeErr() error {
	err := w.err
	w.err = nil
	return err
}

// Run flushes every interval until ctx ends, then flushes once more. Call
// it in its own goroutine for the life of the process's logging.
func (w *Writer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = w.Flush()
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}

// FlushAbove wraps h so that every record at level or above is flushed to
// w as soon as h has written it: only lines below level wait in the buffer.
func FlushAbove(h slog.Handler, w *Writer, level slog.Level) slog.Handler {
	return &flushHandler{Handler: h, w: w, level: level}
}

type flushHandler struct {
	slog.Handler
	w     *Writer
	level slog.Level
}

func (h *flushHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= h.level {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *flushHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &flushHandler{Handler: h.Handler.WithAttrs(attrs), w: h.w, level: h.level}
}

func (h *flushHandler) WithGroup(name string) slog.Handler {
	return &flushHandler{Handler: h.Handler.WithGroup(name), w: h.w, level: h.level}
}
