// SPDX-License-Identifier: Apache-2.0

package provider_test

import "github.com/keygate/keygate"

func mustSecret(s string) keygate.Secret { return keygate.NewSecret(s) }
