// SPDX-License-Identifier: Apache-2.0

// Package fakeprovider is a loopback fake of every provider in the keygate
// catalog (OpenAI, Anthropic, Google Gemini, Mistral, OpenRouter, Groq, Exa,
// Deepgram, ElevenLabs, ...), shaped so the official SDKs decode its answers.
// It is used by tests, the load harness and `keygate dev fake-provider`, never
// by the server itself.
//
// One Fake serves every provider under a path prefix named after it:
// provider "openai" lives at /openai, so pointing KEYGATE_OPENAI_BASE_URL at
// "<fake URL>/openai" (see Fake.BaseURLs and Server.Env) makes keygate call
// the fake with the same paths it would use upstream
// (/openai/v1/chat/completions, /anthropic/v1/messages,
// /google/v1beta/openai/chat/completions, ...).
//
// What a provider serves follows its catalog row, so a new row works without
// code: the OpenAI API under its OpenAI-compatible path, the Anthropic
// Messages API for the anthropic usage dialect, the Gemini native API for the
// gemini dialect, a JSON answer at the key-test (probe) path, and a JSON echo
// of the request anywhere else.
//
// Every request is checked with the provider's own auth scheme (a missing,
// revoked or not-accepted key gets the provider's 401 error shape) and
// recorded (method, path, headers, body, the key seen, status, whether the
// client cancelled). Faults (429 with Retry-After, 500, a delay before the
// first byte, a stream that stalls or is cut after N events) are set with
// SetFault or per request with the X-Fake-Fault header. Echo mode (SetEcho,
// or the X-Fake-Echo header) makes it reflect the key it received, in
// clear, base64 and URL-encoded, in headers, a trailer, errors, answers,
// streams cut inside the key and model lists, as a careless provider may.
package fakeprovider
