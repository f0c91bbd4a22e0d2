// SPDX-License-Identifier: Apache-2.0

package provider

import "strings"

// Route picks the provider of a model name and the model name to send
// upstream.
//
//   - "provider/model", where provider is in the catalog, routes to it with
//     the rest as the upstream model: "mistral/mistral-large" → mistral,
//     "mistral-large"; "openrouter/anthropic/claude-3.5" → openrouter,
//     "anthropic/claude-3.5".
//   - Otherwise the longest matching model prefix of the catalog wins and the
//     name is unchanged: "gpt-4o" → openai, "gpt-4o"; "claude-sonnet-4" →
//     anthropic.
//   - Anything else (empty, an unknown "vendor/model", no matching prefix)
//     returns ok false: keygate never guesses a provider.
func (c *Catalog) Route(model string) (provider, upstreamModel string, ok bool) {
	if model == "" {
		return "", "", false
	}
	if name, rest, found := strings.Cut(model, "/"); found {
		if _, known := c.byName[name]; known && rest != "" {
			return name, rest, true
		}
		return "", "", false
	}
	for _, r := range c.routes {
		if strings.HasPrefix(model, r.prefix) {
			return r.provider, model, true
		}
	}
	return "", "", false
}
