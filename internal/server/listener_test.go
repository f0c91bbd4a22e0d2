// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/keygate/keygate/internal/server"
)

// TestListenCapAndCount: past the cap, Accept waits until a connection
// closes; observe sees every open and every close once, also when a
// connection is closed twice.
func TestListenCapAndCount(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	open := 0
	ln := server.Listen(inner, 2, func(opened bool) {
		mu.Lock()
		defer mu.Unlock()
		if opened {
			open++
		} else {
			open--
		}
	})
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted past the cap of 2")
	case <-time.After(100 * time.Millisecond): // a negative shows only over a while
	}
	first.Close()
	first.Close()
	third := <-accepted
	second.Close()
	third.Close()
	mu.Lock()
	defer mu.Unlock()
	if open != 0 {
		t.Fatalf("open connections counted %d after every close, want 0", open)
	}
}

// TestListenNoCap: a cap of 0 accepts without limit and observe may be nil.
func TestListenNoCap(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := server.Listen(inner, 0, nil)
	defer ln.Close()
	if ln != inner {
		t.Fatal("Listen with no cap and no observer should return the listener itself")
	}
}
