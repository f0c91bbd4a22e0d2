// SPDX-License-Identifier: Apache-2.0

package usage

// Counts are the tokens of one call, in one meaning whatever the provider's
// dialect:
//
//   - Input is every input token, cached or not. OpenAI's prompt_tokens and
//     input_tokens and Gemini's promptTokenCount already include cached
//     tokens; for Anthropic, whose input_tokens excludes them, Input is
//     input_tokens + cache_read_input_tokens + cache_creation_input_tokens.
//     Gemini's toolUsePromptTokenCount is added too.
//   - Output is every output token, reasoning included (Gemini's
//     thoughtsTokenCount is added to candidatesTokenCount).
//   - Cached is the part of Input read from a cache (OpenAI
//     *_tokens_details.cached_tokens, Anthropic cache_read_input_tokens,
//     Gemini cachedContentTokenCount).
type Counts struct {
	Input  int64
	Output int64
	Cached int64
	// Model is the model as the provider reported it ("gpt-4o-2024-08-06"),
	// or "" when it reported none.
	Model string
}

// counts turns the raw fields into Counts (without the model, which the
// callers turn into a string only when it changed) and reports whether any
// count was reported.
func (f *fields) counts() (Counts, bool) {
	v := &f.v
	var c Counts
	switch {
	case f.set&openAIChatMask != 0:
		c.Input, c.Output, c.Cached = v[fPromptTokens], v[fCompletionTokens], v[fCachedTokens]
	case f.set&messagesMask != 0:
		// OpenAI Responses (cached inside input_tokens, cache_* absent) and
		// Anthropic (cached outside input_tokens, *_details absent) in one
		// formula.
		c.Input = v[fInputTokens] + v[fCacheRead] + v[fCacheCreation]
		c.Output = v[fOutputTokens]
		c.Cached = v[fCachedTokens] + v[fCacheRead]
	case f.set&geminiMask != 0:
		c.Input = v[fPromptCount] + v[fToolPromptCount]
		c.Output = v[fCandidatesCount] + v[fThoughtsCount]
		c.Cached = v[fCachedContentCount]
	default:
		return Counts{}, false
	}
	return c, true
}
