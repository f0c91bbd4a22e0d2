// SPDX-License-Identifier: Apache-2.0

package usage_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/provider"
	"github.com/keygate/keygate/internal/usage"
)

// TestJSONBody meters complete JSON bodies in the response shapes of the
// official APIs.
func TestJSONBody(t *testing.T) {
	tests := []struct {
		name    string
		dialect provider.UsageDialect
		body    string
		want    result
	}{
		{"OpenAI/Chat", provider.UsageOpenAI,
			`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
			"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`,
			res(usage.Counts{Input: 19, Output: 10, Model: "gpt-4o-2024-08-06"}, true)},
		{"OpenAI/ChatCached", provider.UsageOpenAI,
			`{"model":"gpt-4o","usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920}}}`,
			res(usage.Counts{Input: 2006, Output: 300, Cached: 1920, Model: "gpt-4o"}, true)},
		{"OpenAI/Completions", provider.UsageOpenAI,
			`{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"text":"x","index":0}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`,
			res(usage.Counts{Input: 5, Output: 7, Model: "gpt-3.5-turbo-instruct"}, true)},
		{"OpenAI/Embeddings", provider.UsageOpenAI,
			`{"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}`,
			res(usage.Counts{Input: 8, Model: "text-embedding-3-small"}, true)},
		{"OpenAI/Responses", provider.UsageOpenAI,
			`{"id":"resp_1","object":"response","status":"completed","model":"gpt-4.1-2025-04-14","output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}],
			"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":12},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":123}}`,
			res(usage.Counts{Input: 36, Output: 87, Cached: 12, Model: "gpt-4.1-2025-04-14"}, true)},
		{"Anthropic/Message", provider.UsageAnthropic,
			`{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn",
			"usage":{"input_tokens":2095,"output_tokens":503,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"service_tier":"standard"}}`,
			res(usage.Counts{Input: 4195, Output: 503, Cached: 2000, Model: "claude-sonnet-4-5-20250929"}, true)},
		{"Anthropic/ToolInputWithUsageKeyIgnored", provider.UsageAnthropic,
			`{"model":"claude-haiku-4-5","content":[{"type":"tool_use","id":"t1","name":"bill","input":{"usage":{"input_tokens":999}}}],"usage":{"input_tokens":10,"output_tokens":4}}`,
			res(usage.Counts{Input: 10, Output: 4, Model: "claude-haiku-4-5"}, true)},
		{"Anthropic/CountTokensIsNotUsage", provider.UsageAnthropic,
			`{"input_tokens":14}`,
			res(usage.Counts{}, false)},
		{"Gemini/Generate", provider.UsageGemini,
			`{"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":12,"totalTokenCount":20},"modelVersion":"gemini-2.5-flash"}`,
			res(usage.Counts{Input: 8, Output: 12, Model: "gemini-2.5-flash"}, true)},
		{"Gemini/ThinkingToolsCache", provider.UsageGemini,
			`{"usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":600,"candidatesTokenCount":50,"thoughtsTokenCount":200,"toolUsePromptTokenCount":30,"totalTokenCount":1280,
			"promptTokensDetails":[{"modality":"TEXT","tokenCount":1000}]},"modelVersion":"gemini-2.5-pro"}`,
			res(usage.Counts{Input: 1030, Output: 250, Cached: 600, Model: "gemini-2.5-pro"}, true)},
		{"Gemini/StreamAsJSONArrayLastWins", provider.UsageGemini,
			`[{"candidates":[],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1},"modelVersion":"gemini-2.5-flash"},
			 {"candidates":[],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":12},"modelVersion":"gemini-2.5-flash"}]`,
			res(usage.Counts{Input: 8, Output: 12, Model: "gemini-2.5-flash"}, true)},
		{"Gemini/CutArrayKeepsCompleteElements", provider.UsageGemini,
			`[{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1}},{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":1`,
			res(usage.Counts{Input: 8, Output: 1}, true)},
		{"Gemini/OpenAIShapeFromCompatAPI", provider.UsageGemini,
			`{"model":"gemini-2.5-flash","usage":{"prompt_tokens":3,"completion_tokens":12}}`,
			res(usage.Counts{Input: 3, Output: 12, Model: "gemini-2.5-flash"}, true)},
		{"None/IgnoresUsage", provider.UsageNone,
			`{"usage":{"prompt_tokens":3,"completion_tokens":12}}`,
			res(usage.Counts{}, false)},
		{"ErrorBody", provider.UsageOpenAI,
			`{"error":{"message":"Invalid API key.","type":"invalid_request_error","code":"invalid_api_key"}}`,
			res(usage.Counts{}, false)},
		{"UsageNull", provider.UsageOpenAI, `{"model":"gpt-4o","usage":null}`, res(usage.Counts{Model: "gpt-4o"}, false)},
		{"NotJSON", provider.UsageOpenAI, `<html>502 Bad Gateway</html>`, res(usage.Counts{}, false)},
		{"Empty", provider.UsageOpenAI, ``, res(usage.Counts{}, false)},
		{"TruncatedObject", provider.UsageOpenAI, `{"usage":{"prompt_tokens":3,"completion_tokens":12}`, res(usage.Counts{}, false)},
		{"NestedUsageIgnored", provider.UsageOpenAI, `{"choices":[{"usage":{"prompt_tokens":3}}],"data":{"usage":{"prompt_tokens":4}}}`, res(usage.Counts{}, false)},
		{"NonIntegerCountsIgnored", provider.UsageOpenAI, `{"usage":{"prompt_tokens":-3,"completion_tokens":1.5,"prompt_tokens_details":{"cached_tokens":1e3}}}`, res(usage.Counts{}, false)},
		{"HugeCountIgnored", provider.UsageOpenAI, `{"usage":{"prompt_tokens":12345678901234567890,"completion_tokens":2}}`, res(usage.Counts{Output: 2}, true)},
		{"EscapedKeyNotRecognised", provider.UsageOpenAI, `{"\u0075sage":{"prompt_tokens":3}}`, res(usage.Counts{}, false)},
		{"EscapedModelNotCaptured", provider.UsageOpenAI, `{"model":"gpt\u002d4o","usage":{"prompt_tokens":3}}`, res(usage.Counts{Input: 3}, true)},
		{"Whitespace", provider.UsageOpenAI, " \r\n\t{ \"usage\" : { \"prompt_tokens\" : 3 , \"completion_tokens\" :4 } , \"model\" : \"m\" }\n", res(usage.Counts{Input: 3, Output: 4, Model: "m"}, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, res(meterAll(tc.dialect, false, true, []byte(tc.body)))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The JSON meter agrees however the body is split.
			b := []byte(tc.body)
			for i := range b {
				if diff := cmp.Diff(tc.want, res(meterAll(tc.dialect, false, true, b[:i], b[i:]))); diff != "" {
					t.Fatalf("meter split at %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}
