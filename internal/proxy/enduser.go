// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"net/http"

	"github.com/keygate/keygate"
)

// headerUser names the end user of a call when the body cannot (a
// passthrough call, whose body is not read) or the caller prefers a
// header. Like every X-Keygate- header it is never forwarded upstream.
const headerUser = "X-Keygate-User"

// headerEndUser reads the end user from the X-Keygate-User header: "" when
// there is none (or it is empty). More than one header, or a value that
// may not be recorded (checkEndUser), is invalid_request.
func (p *Proxy) headerEndUser(r *http.Request) (string, error) {
	vs := r.Header.Values(headerUser)
	switch {
	case len(vs) > 1:
		return "", keygate.Errorf(keygate.CodeInvalidRequest, "The request has %d %s headers; send the end user once.", len(vs), headerUser)
	case len(vs) == 0 || vs[0] == "":
		return "", nil
	}
	return vs[0], p.checkEndUser(vs[0], "the "+headerUser+" header")
}

// bodyEndUser sets c's end user from the body's (the value of the member
// where names, "" when absent), checking it. When the header named one
// too, both must be the same id: keygate would otherwise meter and limit
// one user while the provider's abuse monitoring sees another.
func (p *Proxy) bodyEndUser(c *call, user, where string) error {
	if user == "" {
		return nil
	}
	if err := p.checkEndUser(user, where); err != nil {
		return err
	}
	if c.endUser != "" && c.endUser != user {
		return keygate.Errorf(keygate.CodeInvalidRequest, "The %s header and %s name different end users; send one of them, or the same id in both.", headerUser, where)
	}
	c.endUser = user
	return nil
}

// checkEndUser refuses, with invalid_request naming where it came from and
// never the value, an end user that keygate may not record: one outside
// keygate.ValidEndUser's length and characters, or one shaped like a
// credential (provider.Catalog.LooksLikeKey: a key prefix, a long random
// run, a UUID), so that a key sent as a user id never lands in the ledger.
func (p *Proxy) checkEndUser(user, where string) error {
	if !keygate.ValidEndUser(user) {
		return keygate.Errorf(keygate.CodeInvalidRequest, "The end user in %s must be 1 to %d characters of A-Z, a-z, 0-9 and . _ : @ + -.", where, keygate.MaxEndUserLen)
	}
	if p.d.Catalog.LooksLikeKey(user) {
		return keygate.Errorf(keygate.CodeInvalidRequest, "The end user in %s has the shape of a credential (a key prefix, a long random string or a UUID); send the platform's own short id of the user, never a key.", where)
	}
	return nil
}
