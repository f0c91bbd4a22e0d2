// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// envPinned marks a harness process that already runs under taskset.
const envPinned = "KEYGATE_BENCH_PINNED"

// repinSelf re-executes the harness under `taskset -c cpu`, so every
// thread of the load generator (and of the fake, which inherits the mask)
// stays off the CPU the servers are pinned to. It returns only on failure,
// or when the process already runs pinned (nil).
func repinSelf(cpu string) error {
	if os.Getenv(envPinned) == "1" {
		return nil
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{"taskset", "-c", cpu, self}, os.Args[1:]...)
	return syscall.Exec(taskset, args, append(os.Environ(), envPinned+"=1"))
}

// pdeathsig makes a child get SIGTERM when the harness dies, so no server
// outlives a killed run.
func pdeathsig() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
