// SPDX-License-Identifier: Apache-2.0

package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/keygate/keygate"
	"github.com/keygate/keygate/internal/reqid"
)

// withBodyDeadline gives a request that has a body d to deliver it: the
// connection's read deadline is set when the handler starts and cleared as
// soon as the body has been read to its end (or failed), so that a long
// answer streamed out afterwards is never cut. A body still arriving at the
// deadline fails to read with an error that carries
// keygate.CodeRequestTimeout (408), which the handlers pass on to the
// caller; if a handler answers nothing, this writes the 408 itself. The
// write side has no deadline: streams out take as long as they take.
//
// The deadline is on the connection's own clock (time.Now), not an
// injected one: the kernel enforces it.
func withBodyDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			// Nothing to read: the server's own read, which watches for
			// the client leaving, must not time out under a long answer.
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (HTTP/2 through a wrapper, a test recorder)
			return
		}
		body := &deadlineBody{ReadCloser: r.Body, rc: rc, limit: d}
		r.Body = body
		dw := &answeredWriter{ResponseWriter: w}
		next.ServeHTTP(dw, r)
		if body.timeout != nil && !dw.answered {
			// A handler that took the failed read for a client that left
			// (the read also cancels the request's context) wrote
			// nothing; the client is still there to be told.
			reqid.InfoFrom(r.Context()).Status = http.StatusRequestTimeout // for the access log
			writeError(w, http.StatusRequestTimeout, keygate.CodeRequestTimeout, keygate.ErrorMessage(body.timeout))
		}
	})
}

// answeredWriter records whether the handler began an answer.
type answeredWriter struct {
	http.ResponseWriter
	answered bool
}

func (a *answeredWriter) WriteHeader(code int) {
	a.answered = true
	a.ResponseWriter.WriteHeader(code)
}

func (a *answeredWriter) Write(b []byte) (int, error) {
	a.answered = true
	return a.ResponseWriter.Write(b)
}

// Flush passes flushes through, so streamed responses stay streamed.
func (a *answeredWriter) Flush() {
	a.answered = true
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (a *answeredWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// deadlineBody is a request body read under a deadline that it lifts once
// the body is done.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	limit time.Duration
	// done: the body ended or failed, and the deadline is settled.
	done bool
	// timeout is the deadline's error once it passed.
	timeout error
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.timeout != nil {
		return 0, b.timeout // sticky, so a reader that retries sees it again
	}
	n, err := b.ReadCloser.Read(p)
	if err == nil || b.done {
		return n, err
	}
	b.done = true
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.timeout = &bodyTimeoutError{limit: b.limit, err: err}
		return n, b.timeout
	}
	// The end of the body (or another failure): from here on the server
	// reads only to see whether the client left, which has no deadline.
	_ = b.rc.SetReadDeadline(time.Time{})
	return n, err
}

// bodyTimeoutError is a body read cut by the deadline: a
// keygate.CodeRequestTimeout for the caller, the network error for the log.
type bodyTimeoutError struct {
	limit time.Duration
	err   error
}

func (e *bodyTimeoutError) Error() string {
	return fmt.Sprintf("request body not read within %s: %v", e.limit, e.err)
}

func (e *bodyTimeoutError) Unwrap() []error {
	return []error{
		keygate.Errorf(keygate.CodeRequestTimeout, "The request body did not arrive within %s.", e.limit),
		e.err,
	}
}
