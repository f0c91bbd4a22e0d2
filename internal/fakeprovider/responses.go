// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"maps"
	"net/http"
	"strings"
)

// openAIResponses serves POST /v1/responses, plain and streaming, with the
// event sequence of the Responses API.
func (x *exchange) openAIResponses() {
	model := stringField(x.body, "model", modelIDs(x.p.Name)[0])
	pr := readPrompt(x.body)
	words, cut := reply(x.p.Name, pr, intField(x.body, "max_output_tokens"))
	text := strings.Join(words, " ")
	respID, msgID := x.id("resp"), x.id("msg")
	usage := map[string]any{
		"input_tokens":          pr.words,
		"input_tokens_details":  map[string]any{"cached_tokens": 0},
		"output_tokens":         len(words),
		"output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens":          pr.words + len(words),
	}
	part := func(t string) map[string]any {
		return map[string]any{"type": "output_text", "text": t, "annotations": []any{}, "logprobs": []any{}}
	}
	item := func(status string, content []any) map[string]any {
		return map[string]any{"type": "message", "id": msgID, "status": status, "role": "assistant", "content": content}
	}
	response := func(status string, output []any, usage any) map[string]any {
		r := map[string]any{
			"id": respID, "object": "response", "created_at": created, "status": status,
			"model": model, "output": output, "usage": usage,
			"error": nil, "incomplete_details": nil, "instructions": nil, "metadata": map[string]any{},
			"parallel_tool_calls": true, "temperature": 1.0, "top_p": 1.0,
			"tool_choice": "auto", "tools": []any{}, "text": map[string]any{"format": map[string]any{"type": "text"}},
		}
		if status == "incomplete" {
			r["incomplete_details"] = map[string]any{"reason": "max_output_tokens"}
		}
		return r
	}
	final := "completed"
	if cut {
		final = "incomplete"
	}
	done := response(final, []any{item("completed", []any{part(text)})}, usage)
	if !boolField(x.body, "stream") {
		x.json(http.StatusOK, done)
		return
	}
	s := x.startStream()
	seq := 0
	ev := func(typ string, fields map[string]any) bool {
		e := map[string]any{"type": typ, "sequence_number": seq}
		maps.Copy(e, fields)
		seq++
		return s.event(typ, e)
	}
	ok := ev("response.created", map[string]any{"response": response("in_progress", []any{}, nil)}) &&
		ev("response.in_progress", map[string]any{"response": response("in_progress", []any{}, nil)}) &&
		ev("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", []any{})}) &&
		ev("response.content_part.added", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "part": part("")})
	for i, w := range words {
		if !ok {
			return
		}
		if i > 0 {
			w = " " + w
		}
		ok = ev("response.output_text.delta", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "delta": w, "logprobs": []any{}})
	}
	_ = ok &&
		ev("response.output_text.done", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "text": text, "logprobs": []any{}}) &&
		ev("response.content_part.done", map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0, "part": part(text)}) &&
		ev("response.output_item.done", map[string]any{"output_index": 0, "item": item("completed", []any{part(text)})}) &&
		ev("response."+final, map[string]any{"response": done})
}
