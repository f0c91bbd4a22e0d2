// SPDX-License-Identifier: Apache-2.0

// Package loadtest is the logic of keygate's load harness
// (cmd/keygate-bench): a lean upstream fake that counts what it answers,
// the bare reverse proxy that is the baseline, a probe that tells a target
// answering through the fake from one answering errors or by itself,
// closed- and open-loop load generators, process accounting from /proc,
// and the report with each gateway's ratios to the baseline.
//
// It imports only the standard library and the root package, so the
// harness binary wires the real server (a separate process) around it and
// the package's own test runs it in-process in a tiny configuration.
//
// Latency in the open loop is measured from each request's intended send
// time, not from when it was actually sent, so a server that stalls is
// charged for the requests that queued behind the stall (no coordinated
// omission).
package loadtest
