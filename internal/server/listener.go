// SPDX-License-Identifier: Apache-2.0

package server

import (
	"net"
	"sync"

	"golang.org/x/net/netutil"
)

// Listen wraps ln so that it holds at most max connections open at once
// (0: no cap): past the cap, Accept waits until a connection closes, and
// new clients wait in the kernel's backlog instead of costing the process
// memory and descriptors. observe, if set, is told of each connection
// accepted (true) and closed (false), for a gauge of open connections.
func Listen(ln net.Listener, max int, observe func(opened bool)) net.Listener {
	if max > 0 {
		ln = netutil.LimitListener(ln, max)
	}
	if observe == nil {
		return ln
	}
	return &countingListener{Listener: ln, observe: observe}
}

// countingListener reports every connection it accepts and its close.
type countingListener struct {
	net.Listener
	observe func(opened bool)
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.observe(true)
	return &countedConn{Conn: c, observe: l.observe}, nil
}

// countedConn reports its first Close; the server may close a connection
// more than once.
type countedConn struct {
	net.Conn
	observe func(opened bool)
	once    sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.observe(false) })
	return err
}
