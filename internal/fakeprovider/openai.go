// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
)

// created is the fixed creation time of every fake object, so answers are
// deterministic.
const created = 1700000000

// models lists the model ids each provider's fake advertises; a provider
// not listed advertises "<name>-fake-model".
var models = map[string][]string{ // read-only
	"openai":     {"gpt-4o", "gpt-4o-mini", "o3-mini", "text-embedding-3-small"},
	"anthropic":  {"claude-sonnet-4-5", "claude-haiku-4-5"},
	"google":     {"gemini-2.5-flash", "gemini-2.5-pro"},
	"mistral":    {"mistral-large-latest", "mistral-small-latest"},
	"openrouter": {"openai/gpt-4o", "anthropic/claude-sonnet-4.5"},
	"groq":       {"llama-3.3-70b-versatile"},
}

func modelIDs(name string) []string {
	if m, ok := models[name]; ok {
		return m
	}
	return []string{name + "-fake-model"}
}

func (x *exchange) id(prefix string) string { return fmt.Sprintf("%s_fake_%d", prefix, x.rid) }

func openAIUsage(in, out int) map[string]any {
	return map[string]any{
		"prompt_tokens":             in,
		"completion_tokens":         out,
		"total_tokens":              in + out,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
}

func (x *exchange) openAIChat() {
	model := stringField(x.body, "model", modelIDs(x.p.Name)[0])
	pr := readPrompt(x.body)
	words, cut := reply(x.p.Name, pr, intField(x.body, "max_completion_tokens", "max_tokens"))
	words = x.echoWords(words)
	finish := "stop"
	if cut {
		finish = "length"
	}
	id := x.id("chatcmpl")
	if !boolField(x.body, "stream") {
		x.json(http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"system_fingerprint": "fp_fake",
			"choices": []any{map[string]any{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": strings.Join(words, " "), "refusal": nil},
				"logprobs":      nil,
				"finish_reason": finish,
			}},
			"usage": openAIUsage(pr.words, len(words)),
		})
		return
	}
	includeUsage := boolField(x.body, "stream_options", "include_usage")
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_fake",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
		if includeUsage {
			c["usage"] = nil
		}
		return c
	}
	s := x.startStream()
	if !s.event("", chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
		return
	}
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		if !s.event("", chunk(map[string]any{"content": w}, nil)) {
			return
		}
	}
	if !s.event("", chunk(map[string]any{}, finish)) {
		return
	}
	if includeUsage {
		if !s.event("", map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_fake", "choices": []any{}, "usage": openAIUsage(pr.words, len(words)),
		}) {
			return
		}
	}
	s.raw("", "[DONE]")
}

func (x *exchange) openAICompletions() {
	model := stringField(x.body, "model", "gpt-3.5-turbo-instruct")
	pr := readPrompt(x.body)
	words, cut := reply(x.p.Name, pr, intField(x.body, "max_tokens"))
	words = x.echoWords(words)
	finish := "stop"
	if cut {
		finish = "length"
	}
	id := x.id("cmpl")
	choice := func(text string, finish any) map[string]any {
		return map[string]any{"text": text, "index": 0, "logprobs": nil, "finish_reason": finish}
	}
	if !boolField(x.body, "stream") {
		x.json(http.StatusOK, map[string]any{
			"id": id, "object": "text_completion", "created": created, "model": model,
			"choices": []any{choice(strings.Join(words, " "), finish)},
			"usage":   openAIUsage(pr.words, len(words)),
		})
		return
	}
	includeUsage := boolField(x.body, "stream_options", "include_usage")
	s := x.startStream()
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		if !s.event("", map[string]any{"id": id, "object": "text_completion", "created": created, "model": model, "choices": []any{choice(w, nil)}}) {
			return
		}
	}
	if !s.event("", map[string]any{"id": id, "object": "text_completion", "created": created, "model": model, "choices": []any{choice("", finish)}}) {
		return
	}
	if includeUsage && !s.event("", map[string]any{"id": id, "object": "text_completion", "created": created, "model": model, "choices": []any{}, "usage": openAIUsage(pr.words, len(words))}) {
		return
	}
	s.raw("", "[DONE]")
}

// embeddingDims is the size of the fake's embeddings unless the request
// asks for "dimensions".
const embeddingDims = 8

func (x *exchange) openAIEmbeddings() {
	model := stringField(x.body, "model", "text-embedding-3-small")
	var inputs []string
	switch in := x.body["input"].(type) {
	case string:
		inputs = []string{in}
	case []any:
		for _, e := range in {
			switch e := e.(type) {
			case string:
				inputs = append(inputs, e)
			default: // token arrays: embed their JSON form
				inputs = append(inputs, fmt.Sprint(e))
			}
		}
	default:
		x.fail(http.StatusBadRequest, "'input' is a required property.")
		return
	}
	dims := embeddingDims
	if d := intField(x.body, "dimensions"); d > 0 {
		dims = d
	}
	b64 := stringField(x.body, "encoding_format", "float") == "base64"
	tokens := 0
	data := make([]any, len(inputs))
	for i, in := range inputs {
		tokens += len(strings.Fields(in))
		vec := embed(in, dims)
		var emb any = vec
		if b64 {
			buf := make([]byte, 4*len(vec))
			for j, v := range vec {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	x.json(http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// embed returns a deterministic unit-free vector derived from s.
func embed(s string, dims int) []float32 {
	out := make([]float32, dims)
	for i := range out {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d:%s", i, s)
		out[i] = float32(h.Sum32()%2000)/1000 - 1
	}
	return out
}

func (x *exchange) openAIModels() {
	ids := x.echoIDs(modelIDs(x.p.Name))
	data := make([]any, len(ids))
	for i, id := range ids {
		if x.p.Name == "google" {
			id = "models/" + id
		}
		data[i] = map[string]any{"id": id, "object": "model", "created": created, "owned_by": x.p.Name}
	}
	x.json(http.StatusOK, map[string]any{"object": "list", "data": data})
}
