// SPDX-License-Identifier: Apache-2.0

package logbuf_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/logbuf"
)

// countingWriter records each write it receives.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
	fail   error
	wrote  chan string // if set, receives each write as it happens
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.writes = append(c.writes, string(p))
	if c.wrote != nil {
		c.wrote <- string(p)
	}
	return len(p), nil
}

func (c *countingWriter) all() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.writes, ""), len(c.writes)
}

func TestWriterBatches(t *testing.T) {
	out := &countingWriter{}
	w := logbuf.New(out, 64)
	for range 5 {
		if _, err := w.Write([]byte("0123456789\n")); err != nil { // 11 bytes
			t.Fatal(err)
		}
	}
	if got, n := out.all(); n != 0 || got != "" {
		t.Fatalf("before the buffer fills: %d writes %q, want none", n, got)
	}
	_, _ = w.Write([]byte("0123456789\n")) // 66 > 64: the first five go out in one write
	if _, n := out.all(); n != 1 {
		t.Fatalf("after the buffer filled: %d writes, want 1", n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, n := out.all()
	if n != 2 || got != strings.Repeat("0123456789\n", 6) {
		t.Fatalf("after Flush: %d writes %q", n, got)
	}
	if err := w.Flush(); err != nil { // nothing buffered: no empty write
		t.Fatal(err)
	}
	if _, n := out.all(); n != 2 {
		t.Fatalf("an empty flush wrote: %d writes", n)
	}
}

func TestWriterLargeWriteGoesStraightThrough(t *testing.T) {
	out := &countingWriter{}
	w := logbuf.New(out, 8)
	_, _ = w.Write([]byte("ab"))
	big := strings.Repeat("x", 20)
	if n, err := w.Write([]byte(big)); err != nil || n != 20 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	got, _ := out.all()
	if got != "ab"+big {
		t.Fatalf("order lost: %q", got)
	}
}

func TestWriterReportsFailedFlush(t *testing.T) {
	boom := errors.New("disk full")
	out := &countingWriter{fail: boom}
	w := logbuf.New(out, 64)
	_, _ = w.Write([]byte("line\n"))
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("the error is reported once: %v", err)
	}
}

func TestRunFlushesOnTimerAndAtEnd(t *testing.T) {
	out := &countingWriter{wrote: make(chan string, 2)}
	w := logbuf.New(out, 1<<10)
	_, _ = w.Write([]byte("tick\n"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, time.Millisecond); close(done) }()
	select {
	case got := <-out.wrote:
		if got != "tick\n" {
			t.Fatalf("the timer flushed %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the timer never flushed")
	}
	_, _ = w.Write([]byte("last\n"))
	cancel()
	<-done
	if got, _ := out.all(); got != "tick\nlast\n" {
		t.Fatalf("after Run ended: %q", got)
	}
}

func TestFlushAboveLevel(t *testing.T) {
	var out bytes.Buffer
	w := logbuf.New(&out, 1<<10)
	h := logbuf.FlushAbove(slog.NewTextHandler(w, nil), w, slog.LevelWarn)
	log := slog.New(h).With("component", "test")
	log.Info("request")
	if out.Len() != 0 {
		t.Fatalf("an Info line was written at once: %q", out.String())
	}
	log.WithGroup("g").Warn("upstream failed", "code", 500)
	s := out.String()
	if !strings.Contains(s, "msg=request") || !strings.Contains(s, "upstream failed") || !strings.Contains(s, "g.code=500") {
		t.Fatalf("a Warn did not flush everything before it: %q", s)
	}
}
