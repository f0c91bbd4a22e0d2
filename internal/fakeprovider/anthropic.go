// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"net/http"
	"strings"
)

func anthropicUsage(in, out int) map[string]any {
	return map[string]any{
		"input_tokens": in, "output_tokens": out,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
		"service_tier": "standard",
	}
}

// anthropicMessages serves POST /v1/messages, plain and streaming, with the
// full event sequence of the Messages API.
func (x *exchange) anthropicMessages() {
	model := stringField(x.body, "model", modelIDs(x.p.Name)[0])
	pr := readPrompt(x.body)
	words, cut := reply(x.p.Name, pr, intField(x.body, "max_tokens"))
	words = x.echoWords(words)
	stop := "end_turn"
	if cut {
		stop = "max_tokens"
	}
	id := x.id("msg")
	msg := func(content []any, stopReason any, usage map[string]any) map[string]any {
		return map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": stopReason, "stop_sequence": nil, "usage": usage,
		}
	}
	if !boolField(x.body, "stream") {
		x.json(http.StatusOK, msg([]any{map[string]any{"type": "text", "text": strings.Join(words, " ")}}, stop, anthropicUsage(pr.words, len(words))))
		return
	}
	s := x.startStream()
	ok := s.event("message_start", map[string]any{"type": "message_start", "message": msg([]any{}, nil, anthropicUsage(pr.words, 1))}) &&
		s.event("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}}) &&
		s.event("ping", map[string]any{"type": "ping"})
	for i, w := range words {
		if !ok {
			return
		}
		if i > 0 {
			w = " " + w
		}
		ok = s.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": w}})
	}
	_ = ok &&
		s.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}) &&
		s.event("message_delta", map[string]any{
			"type":  "message_delta",
			"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": len(words)},
		}) &&
		s.event("message_stop", map[string]any{"type": "message_stop"})
}

func (x *exchange) anthropicModels() {
	ids := x.echoIDs(modelIDs(x.p.Name))
	data := make([]any, len(ids))
	for i, id := range ids {
		data[i] = map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}
	}
	x.json(http.StatusOK, map[string]any{"data": data, "has_more": false, "first_id": ids[0], "last_id": ids[len(ids)-1]})
}
