// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/keygate/keygate/internal/fakeprovider"
)

// openAIClient returns an official SDK client aimed at the fake's
// OpenAI-compatible API of the named provider.
func openAIClient(tb testing.TB, s *fakeprovider.Server, name string) openai.Client {
	tb.Helper()
	p := MustLookup(tb, name)
	return openai.NewClient(
		option.WithBaseURL(s.BaseURL(name)+p.OpenAICompatPath+"/"),
		option.WithAPIKey(testKeys[name]),
		option.WithMaxRetries(0),
	)
}

func TestOpenAIChat(t *testing.T) {
	s := MustStart(t)
	for _, name := range []string{"openai", "anthropic", "google", "mistral", "openrouter", "groq"} {
		t.Run(name, func(t *testing.T) {
			c := openAIClient(t, s, name)
			got, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model:    "some-model",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello there fake")},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := "This is a fake reply from " + name + ". You said: hello there fake"
			if diff := cmp.Diff(want, got.Choices[0].Message.Content); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			u := got.Usage
			if diff := cmp.Diff([]int64{5, 12, 17}, []int64{u.PromptTokens, u.CompletionTokens, u.TotalTokens}); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
			r, _ := s.LastRequest()
			if r.Provider != name || !r.Key.Equal(mustSecret(testKeys[name])) || !r.Authorized {
				t.Errorf("recorded provider %q authorized %v, key matches %v", r.Provider, r.Authorized, r.Key.Equal(mustSecret(testKeys[name])))
			}
		})
	}
}

func TestOpenAIChatStreamIncludeUsage(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("This is a fake reply from openai. You said: one two three", acc.Choices[0].Message.Content); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{3, 12, 15}, []int64{acc.Usage.PromptTokens, acc.Usage.CompletionTokens, acc.Usage.TotalTokens}); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	// role chunk + 12 words + finish chunk + usage chunk
	if chunks != 15 {
		t.Errorf("chunks = %d, want 15", chunks)
	}
}

func TestOpenAIChatStreamWithoutUsage(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Usage.TotalTokens != 0 {
		t.Errorf("usage reported without include_usage: %+v", acc.Usage)
	}
}

func TestOpenAIEmbeddings(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		t.Run(string(format), func(t *testing.T) {
			got, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
				Model:          "text-embedding-3-small",
				Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a b c", "d"}},
				EncodingFormat: format,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Data) != 2 || got.Usage.PromptTokens != 4 {
				t.Fatalf("got %d embeddings, %d prompt tokens; want 2, 4", len(got.Data), got.Usage.PromptTokens)
			}
			if format == openai.EmbeddingNewParamsEncodingFormatFloat && len(got.Data[0].Embedding) != 8 {
				t.Errorf("dims = %d, want 8", len(got.Data[0].Embedding))
			}
		})
	}
}

func TestOpenAIModels(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	page, err := c.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]string{"gpt-4o", "gpt-4o-mini", "o3-mini", "text-embedding-3-small"}, ids); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
}

func TestOpenAICompletions(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	got, err := c.Completions.New(context.Background(), openai.CompletionNewParams{
		Model:  openai.CompletionNewParamsModelGPT3_5TurboInstruct,
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("say this")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Usage.PromptTokens != 2 || !strings.HasPrefix(got.Choices[0].Text, "This is a fake reply") {
		t.Errorf("got %+v", got)
	}
}

func TestOpenAIResponses(t *testing.T) {
	s := MustStart(t)
	c := openAIClient(t, s, "openai")
	params := responses.ResponseNewParams{
		Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("tell me more")},
	}
	want := "This is a fake reply from openai. You said: tell me more"

	got, err := c.Responses.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.OutputText()); diff != "" {
		t.Errorf("plain text (-want +got):\n%s", diff)
	}
	if got.Usage.InputTokens != 3 || got.Usage.OutputTokens != 12 {
		t.Errorf("usage = %+v", got.Usage)
	}

	stream := c.Responses.NewStreaming(context.Background(), params)
	var deltas strings.Builder
	var types []string
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			deltas.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, deltas.String()); diff != "" {
		t.Errorf("streamed text (-want +got):\n%s", diff)
	}
	if final.Usage.OutputTokens != 12 || final.Status != "completed" {
		t.Errorf("final response: status %q usage %+v", final.Status, final.Usage)
	}
	if types[0] != "response.created" || types[len(types)-1] != "response.completed" {
		t.Errorf("event types = %v", types)
	}
}
