// SPDX-License-Identifier: Apache-2.0

package client

import (
	"context"
	"net/http"

	"github.com/keygate/keygate"
)

// Identity is who the client's token is: the API's whoami object.
type Identity struct {
	TokenID string           `json:"token_id"`
	Name    string           `json:"name"`
	Role    keygate.Role     `json:"role"`
	Tenant  keygate.TenantID `json:"tenant"`
	// Server is the build of the server that answered.
	Server ServerBuild `json:"server"`
}

// ServerBuild is which keygate build a server runs.
type ServerBuild struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
}

// WhoAmI returns the identity of the client's token; unauthorized if the
// token is missing, unknown or revoked.
func (c *Client) WhoAmI(ctx context.Context) (Identity, error) {
	var id Identity
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/whoami", out: &id})
	return id, err
}
