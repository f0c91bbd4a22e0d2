// SPDX-License-Identifier: Apache-2.0

package provider

import "strings"

// EnvBaseURL returns the environment variable that overrides the base URL of
// the named provider: KEYGATE_<NAME>_BASE_URL, upper-cased, '-' as '_'.
func EnvBaseURL(name string) string {
	return "KEYGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_BASE_URL"
}
