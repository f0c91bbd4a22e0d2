// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"
)

// MasterKey is the state of the master key (the key-encryption key).
// PendingRewrap counts the data keys still wrapped by an older master key.
type MasterKey struct {
	Primary       string `json:"primary"`
	Kind          string `json:"kind"`
	PendingRewrap int64  `json:"pending_rewrap"`
}

// MasterKeyRotation is the answer to a master-key rotation: the new primary
// key, the one it replaced, and the data keys the server will rewrap in the
// background.
type MasterKeyRotation struct {
	Primary       string `json:"primary"`
	Previous      string `json:"previous"`
	PendingRewrap int64  `json:"pending_rewrap"`
}

// MasterKeyStatus returns the current master key and the rewrap backlog.
func (c *Client) MasterKeyStatus(ctx context.Context) (MasterKey, error) {
	var m MasterKey
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/master-key", out: &m})
	return m, err
}

// RotateMasterKey makes a new master key primary; the server rewraps the
// existing data keys in the background. The server answers unsupported when
// its key source cannot rotate (for example an environment variable).
func (c *Client) RotateMasterKey(ctx context.Context) (MasterKeyRotation, error) {
	var r MasterKeyRotation
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/master-key/rotate", out: &r})
	return r, err
}

// MasterKeyRetirement is the answer to a master-key retirement.
type MasterKeyRetirement struct {
	Retired string `json:"retired"`
	Primary string `json:"primary"`
}

// RetireMasterKey removes the older master key id from the server's keeper
// for good. The server answers conflict while anything is still wrapped by
// it (the rewrap is not done) or for the primary key, and unsupported for a
// key held outside keygate (retired by removing it from the configuration).
func (c *Client) RetireMasterKey(ctx context.Context, id string) (MasterKeyRetirement, error) {
	body, err := jsonBody(map[string]string{"id": id})
	if err != nil {
		return MasterKeyRetirement{}, err
	}
	var r MasterKeyRetirement
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/master-key/retire", body: body, out: &r})
	return r, err
}
