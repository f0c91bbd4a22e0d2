// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEndStatus is the one table of how a call ends: the error handler
// (no answer), and the close of a metered answer (the client may have
// left before its end) both ask endStatus.
func TestEndStatus(t *testing.T) {
	refused := errors.New("dial tcp: connection refused")
	type result struct {
		Status   int
		Canceled bool
	}
	tests := []struct {
		name       string
		answered   int
		clientGone bool
		err        error
		complete   bool
		want       result
	}{
		// errorHandler: the round trip failed, there is no answer.
		{"ClientLeftBeforeAnswer", 0, true, context.Canceled, false, result{499, true}},
		{"ClientLeftTransportOtherError", 0, true, refused, false, result{499, true}},
		{"TransportCanceled", 0, false, fmt.Errorf("round trip: %w", context.Canceled), false, result{499, true}},
		{"ClientDeadline", 0, true, context.DeadlineExceeded, false, result{499, true}},
		{"UpstreamUnreachable", 0, false, refused, false, result{http.StatusBadGateway, false}},
		{"UpstreamDeadline", 0, false, context.DeadlineExceeded, false, result{http.StatusBadGateway, false}},
		// meteredBody.Close: the provider answered.
		{"AnswerRead", 200, false, nil, true, result{200, false}},
		{"ClientLeftAfterLastByte", 200, true, nil, true, result{200, false}},
		{"ClientLeftMidStream", 200, true, nil, false, result{499, true}},
		{"ClientLeftMidError", 429, true, nil, false, result{499, true}},
		{"ProviderErrorRead", 500, false, nil, true, result{500, false}},
		{"ClosedEarlyClientThere", 200, false, nil, false, result{200, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got result
			got.Status, got.Canceled = endStatus(tc.answered, tc.clientGone, tc.err, tc.complete)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endStatus(%d, %v, %v, %v) (-want +got):\n%s", tc.answered, tc.clientGone, tc.err, tc.complete, diff)
			}
		})
	}
}
