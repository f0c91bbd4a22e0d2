// SPDX-License-Identifier: Apache-2.0

package api

// BuildInfo says which keygate build answers: the server block of whoami,
// so that an operator (and `keygate whoami`) can tell which version runs
// behind an address during a rollout. Only authenticated callers see it.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
}
