// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
	"time"

	"github.com/keygate/keygate"
)

// Health colors: the traffic light the API gives each key.
const (
	ColorGreen = "green" // the provider accepted the key when last checked
	ColorRed   = "red"   // the provider rejected it: calls with it fail
	ColorGrey  = "grey"  // not checked yet, or not since it last changed
)

// KeyHealth is the API's health object of one stored key (its current
// version).
type KeyHealth struct {
	// Owner is the tenant id, or keygate.PlatformScope.
	Owner    keygate.TenantID  `json:"owner"`
	Provider string            `json:"provider"`
	Status   keygate.KeyStatus `json:"status"`
	// Color is ColorGreen, ColorRed or ColorGrey.
	Color   string `json:"color"`
	Hint    string `json:"hint"`
	Version int    `json:"version"`
	// LastCheckedAt is nil while the key was never checked. LastError
	// never contains the key.
	LastCheckedAt *time.Time `json:"last_checked_at"`
	LastError     string     `json:"last_error"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Health is the API's answer to GET .../health for one owner: every key,
// and whether none is red.
type Health struct {
	Healthy bool        `json:"healthy"`
	Keys    []KeyHealth `json:"keys"`
}

// HealthCounts counts keys by color.
type HealthCounts struct {
	Green int `json:"green"`
	Red   int `json:"red"`
	Grey  int `json:"grey"`
}

// PlatformHealth is the API's answer to GET /api/v1/health: the keys of every
// owner counted by color, and the red ones listed, most recently changed
// first.
type PlatformHealth struct {
	Counts HealthCounts `json:"counts"`
	Red    []KeyHealth  `json:"red"`
	Total  int          `json:"total"`
}

// Health returns the health of owner's keys (a tenant id or name, or
// keygate.PlatformScope for the platform's keys); not_found for an unknown
// tenant, forbidden for a token without access to it.
func (c *Client) Health(ctx context.Context, owner string) (Health, error) {
	var h Health
	if err := required("tenant (or the platform)", owner); err != nil {
		return h, err
	}
	p := "/tenants/" + pathEscape(owner) + "/health"
	if keygate.TenantID(owner).IsPlatform() {
		p = "/platform/health"
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: p, out: &h})
	return h, err
}

// PlatformHealth returns the platform-wide health summary (platform admins
// only: forbidden otherwise).
func (c *Client) PlatformHealth(ctx context.Context) (PlatformHealth, error) {
	var h PlatformHealth
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/health", out: &h})
	return h, err
}
