// SPDX-License-Identifier: Apache-2.0

// Package provider is keygate's catalog of upstream AI providers (OpenAI,
// Anthropic, Google Gemini, Mistral, OpenRouter, Groq, Exa, Deepgram,
// ElevenLabs, ...), held as data in the embedded catalog.json: base URL, how a
// key is injected (header and value template), fixed headers, key format,
// how to test a key, the OpenAI-compatible path, model-name routing prefixes
// and the dialect in which the provider reports token usage.
//
// Adding a provider is adding a row to catalog.json; no code path names a
// provider. A Catalog is immutable after construction and safe for concurrent
// use; Default parses the embedded file on every call, so there is no
// package-level state.
package provider
