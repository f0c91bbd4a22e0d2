// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package main

import (
	"errors"
	"syscall"
)

const envPinned = "KEYGATE_BENCH_PINNED"

func repinSelf(string) error { return errors.New("pinning needs Linux") }

func pdeathsig() *syscall.SysProcAttr { return nil }
