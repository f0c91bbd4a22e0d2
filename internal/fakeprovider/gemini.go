// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"net/http"
	"strings"
)

func geminiUsage(in, out int) map[string]any {
	return map[string]any{"promptTokenCount": in, "candidatesTokenCount": out, "totalTokenCount": in + out}
}

// geminiGenerate serves the native generateContent and
// streamGenerateContent (server-sent events, as with ?alt=sse).
func (x *exchange) geminiGenerate(model string, streaming bool) {
	pr := readPrompt(x.body)
	words, cut := reply(x.p.Name, pr, intField(x.body, "generationConfig"))
	words = x.echoWords(words)
	finish := "STOP"
	if cut {
		finish = "MAX_TOKENS"
	}
	answer := func(text string, finish any, usage map[string]any) map[string]any {
		c := map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}}, "index": 0}
		if finish != nil {
			c["finishReason"] = finish
		}
		return map[string]any{"candidates": []any{c}, "usageMetadata": usage, "modelVersion": model, "responseId": x.id("gen")}
	}
	if !streaming {
		x.json(http.StatusOK, answer(strings.Join(words, " "), finish, geminiUsage(pr.words, len(words))))
		return
	}
	s := x.startStream()
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		var fin any
		usage := geminiUsage(pr.words, i+1)
		if i == len(words)-1 {
			fin = finish
		}
		if !s.event("", answer(w, fin, usage)) {
			return
		}
	}
}

func (x *exchange) geminiModels() {
	ids := x.echoIDs(modelIDs(x.p.Name))
	data := make([]any, len(ids))
	for i, id := range ids {
		data[i] = map[string]any{
			"name": "models/" + id, "displayName": id, "version": "001",
			"inputTokenLimit": 1048576, "outputTokenLimit": 65536,
			"supportedGenerationMethods": []any{"generateContent", "countTokens"},
		}
	}
	x.json(http.StatusOK, map[string]any{"models": data})
}
