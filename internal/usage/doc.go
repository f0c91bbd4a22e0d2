// SPDX-License-Identifier: Apache-2.0

// Package usage reads token usage from provider responses as they pass
// through the proxy (the ledger records it).
//
// A Meter observes a body (JSON or a server-sent-events stream) chunk by
// chunk without holding it, so a stream the client cuts short still reports
// the tokens its complete events reported. It understands the usage shapes
// of the OpenAI API (chat, completions, embeddings, Responses), the
// Anthropic Messages API and the Gemini API, and gives them one meaning
// (see Counts).
//
// OpenAI chat and completions streams report usage only when asked: the
// proxy asks on the client's behalf (stream_options.include_usage), and an
// EventFilter with StripUsageChunk removes the extra chunk that answer
// adds, keeping the stream's framing byte for byte.
//
// Hot-path cost: a Meter is one allocation, plus one for the model name
// when it first appears; metering a stream allocates nothing per chunk.
package usage
