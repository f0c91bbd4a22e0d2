// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FaultHeader is the request header that sets a Fault for one request,
// overriding any set with SetFault: comma-separated key=value pairs among
// status, retry_after, delay (a Go duration), stall_after, cut_after and
// encoding, e.g. "status=429,retry_after=7" or "stall_after=3".
const FaultHeader = "X-Fake-Fault"

// Fault is a misbehaviour the fake applies to requests that passed the key
// check. The zero Fault is a healthy provider.
type Fault struct {
	// Status, when non-zero, answers with this status and the provider's
	// error shape (429, 500, 529, ...).
	Status int
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string
	// Delay waits before the first byte (cut short if the client goes away).
	Delay time.Duration
	// StallAfter, when positive, stops a stream after that many events and
	// holds the connection open until the client goes away (or the fake
	// closes); a non-streaming answer is held before any byte.
	StallAfter int
	// CutAfter, when positive, drops the connection after that many stream
	// events; a non-streaming answer is dropped half-way through its body.
	CutAfter int
	// Encoding, when set, labels the answer with this Content-Encoding
	// ("br"), as a provider that compresses unasked does; the body is
	// sent as it is.
	Encoding string
	// Times is how many requests the fault applies to before it clears
	// itself; 0 means until SetFault or Reset replaces it.
	Times int
}

// SetFault applies f to requests for the named provider, or to every
// provider without a fault of its own when name is "". A zero Fault clears.
func (f *Fake) SetFault(name string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault == (Fault{}) {
		delete(f.faults, name)
		return
	}
	c := fault
	f.faults[name] = &c
}

// faultFor returns the fault for one request: the control header's if
// present, else the provider's, else the catalog-wide one.
func (f *Fake) faultFor(name, header string) (Fault, error) {
	if header != "" {
		return parseFault(header)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range []string{name, ""} {
		fl, ok := f.faults[n]
		if !ok {
			continue
		}
		out := *fl
		if fl.Times > 0 {
			fl.Times--
			if fl.Times == 0 {
				delete(f.faults, n)
			}
		}
		return out, nil
	}
	return Fault{}, nil
}

func parseFault(s string) (Fault, error) {
	var fl Fault
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Fault{}, fmt.Errorf("%s: %q is not key=value", FaultHeader, kv)
		}
		var err error
		switch k {
		case "status":
			fl.Status, err = strconv.Atoi(v)
		case "retry_after":
			fl.RetryAfter = v
		case "delay":
			fl.Delay, err = time.ParseDuration(v)
		case "stall_after":
			fl.StallAfter, err = strconv.Atoi(v)
		case "cut_after":
			fl.CutAfter, err = strconv.Atoi(v)
		case "encoding":
			fl.Encoding = v
		default:
			return Fault{}, fmt.Errorf("%s: unknown key %q", FaultHeader, k)
		}
		if err != nil {
			return Fault{}, fmt.Errorf("%s: %s: %v", FaultHeader, k, err)
		}
	}
	return fl, nil
}
