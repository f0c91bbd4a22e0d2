// SPDX-License-Identifier: Apache-2.0

package fakeprovider

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// textKeys are the JSON fields whose strings count as prompt text, in
// every dialect the fake speaks.
var textKeys = map[string]bool{ // read-only
	"content": true, "text": true, "input": true, "prompt": true, "system": true,
	"instructions": true, "query": true, "messages": true, "contents": true,
	"parts": true, "systemInstruction": true,
}

// prompt is what the fake reads from a request body: the text strings in
// order and the word count, which is the deterministic "token" count the
// fake reports.
type prompt struct {
	texts []string
	words int
}

func readPrompt(body map[string]any) prompt {
	var p prompt
	p.walk(body, "")
	return p
}

func (p *prompt) walk(v any, key string) {
	switch v := v.(type) {
	case string:
		if key != "" && textKeys[key] {
			p.texts = append(p.texts, v)
			p.words += len(strings.Fields(v))
		}
	case []any:
		for _, e := range v {
			p.walk(e, key)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // maps have no order; answers must be deterministic
		for _, k := range keys {
			if textKeys[k] {
				p.walk(v[k], k)
			}
		}
	}
}

// reply is the fake's deterministic answer to a prompt, cut to maxWords
// words when maxWords > 0. truncated reports the cut.
func reply(provider string, p prompt, maxWords int) (words []string, truncated bool) {
	s := fmt.Sprintf("This is a fake reply from %s.", provider)
	if len(p.texts) > 0 {
		last := strings.Fields(p.texts[len(p.texts)-1])
		if len(last) > 6 {
			last = last[:6]
		}
		if len(last) > 0 {
			s += " You said: " + strings.Join(last, " ")
		}
	}
	words = strings.Fields(s)
	if maxWords > 0 && len(words) > maxWords {
		return words[:maxWords], true
	}
	return words, false
}

// intField returns the first of names present in body as an int.
func intField(body map[string]any, names ...string) int {
	for _, n := range names {
		if f, ok := body[n].(float64); ok {
			return int(f)
		}
		if m, ok := body[n].(map[string]any); ok { // gemini generationConfig
			if f, ok := m["maxOutputTokens"].(float64); ok {
				return int(f)
			}
		}
	}
	return 0
}

func stringField(body map[string]any, name, def string) string {
	if s, ok := body[name].(string); ok && s != "" {
		return s
	}
	return def
}

func boolField(body map[string]any, path ...string) bool {
	var v any = body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		v = m[p]
	}
	b, _ := v.(bool)
	return b
}

// decodeBody parses a JSON object body; an empty body is an empty object.
func decodeBody(b []byte) (map[string]any, error) {
	m := map[string]any{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
