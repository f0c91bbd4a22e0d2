// SPDX-License-Identifier: Apache-2.0

package proxy_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/keygate/keygate"
)

func openAIClient(g *gw, token string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(g.URL + "/v1/"),
		option.WithAPIKey(token),
		option.WithMaxRetries(0),
	}, opts...)...)
}

func anthropicClient(g *gw, token string) anthropic.Client {
	return anthropic.NewClient(
		aoption.WithBaseURL(g.URL),
		aoption.WithAPIKey(token),
		aoption.WithMaxRetries(0),
	)
}

// TestOpenAISDK drives keygate with the official OpenAI SDK (base URL =
// keygate, API key = gateway token) and checks that the fake provider got
// the tenant's key, never the token, and that usage was metered.
func TestOpenAISDK(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	g.MustKey(t, keygate.PlatformScope, "openai", platformOpenAI)
	c := openAIClient(g, tok)
	ctx := context.Background()

	t.Run("Chat", func(t *testing.T) {
		var resp *http.Response
		got, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-4o",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello there")},
		}, option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		if got.Choices[0].Message.Content == "" || got.Usage.TotalTokens == 0 {
			t.Errorf("reply %+v", got)
		}
		if k := g.lastKey(t); k != tenantOpenAI {
			t.Errorf("provider saw key %q, want the tenant's", k)
		}
		if resp.Header.Get("X-Keygate-Key-Source") != "tenant" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("headers: source %q request id %q", resp.Header.Get("X-Keygate-Key-Source"), resp.Header.Get("X-Request-Id"))
		}
	})
	t.Run("ChatStream", func(t *testing.T) {
		stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:         "gpt-4o-mini",
			Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three")},
			StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if acc.Choices[0].Message.Content == "" || acc.Usage.TotalTokens == 0 {
			t.Errorf("accumulated %+v", acc.ChatCompletion)
		}
		if k := g.lastKey(t); k != tenantOpenAI {
			t.Errorf("provider saw key %q", k)
		}
	})
	t.Run("Embeddings", func(t *testing.T) {
		got, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "text-embedding-3-small",
			Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a b c"}},
		})
		if err != nil || len(got.Data) != 1 {
			t.Fatalf("embeddings: %v", err)
		}
	})
	t.Run("Models", func(t *testing.T) {
		page, err := c.Models.List(ctx)
		if err != nil || len(page.Data) == 0 {
			t.Fatalf("models: %v", err)
		}
		for _, m := range page.Data {
			if m.ID == "gpt-4o" {
				return
			}
		}
		t.Errorf("gpt-4o not listed: %+v", page.Data)
	})
	t.Run("ClaudeThroughOpenAIShape", func(t *testing.T) {
		g.MustKey(t, tn, "anthropic", tenantAnthropic)
		got, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    "claude-sonnet-4-5",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi claude")},
		})
		if err != nil || got.Choices[0].Message.Content == "" {
			t.Fatalf("claude via /v1/chat/completions: %v", err)
		}
		r, _ := g.fake.LastRequest()
		if r.Provider != "anthropic" || r.Key.Reveal() != tenantAnthropic {
			t.Errorf("reached %s with the wrong key", r.Provider)
		}
	})

	evs := MustEvents(t, g, 4)
	for _, ev := range evs {
		if ev.Tenant != tn || ev.Source != keygate.SourceTenant || ev.Status != 200 {
			t.Errorf("usage event %+v", ev)
		}
		if (ev.Route == "chat" || ev.Route == "embeddings") && ev.InputTokens == 0 {
			t.Errorf("usage event without tokens: %+v", ev)
		}
	}
}

// TestAnthropicSDK drives /v1/messages with the official Anthropic SDK.
func TestAnthropicSDK(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, keygate.PlatformScope, "anthropic", platformAnthropic)
	c := anthropicClient(g, tok)
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 100,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello claude"))},
	}
	got, err := c.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content[0].Text == "" || got.Usage.OutputTokens == 0 {
		t.Errorf("message %+v", got)
	}
	if k := g.lastKey(t); k != platformAnthropic {
		t.Errorf("provider saw %q, want the platform key (the tenant has none)", k)
	}

	g.MustKey(t, tn, "anthropic", tenantAnthropic)
	stream := c.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Content[0].Text == "" || acc.Usage.OutputTokens == 0 {
		t.Errorf("accumulated %+v", acc)
	}
	if k := g.lastKey(t); k != tenantAnthropic {
		t.Errorf("provider saw %q, want the tenant key after it was set", k)
	}
	evs := MustEvents(t, g, 2)
	if len(evs) != 2 || evs[0].Source != keygate.SourcePlatform || evs[1].Source != keygate.SourceTenant || !evs[1].Streamed || evs[1].OutputTokens == 0 {
		t.Errorf("usage events %+v", evs)
	}
}

// TestStreamUsageWithoutClientAsking: keygate asks the provider for the
// usage chunk to meter a stream, and removes it from what the caller gets.
func TestStreamUsageWithoutClientAsking(t *testing.T) {
	g := MustGateway(t)
	tn, tok := g.MustTenant(t, "acme", true)
	g.MustKey(t, tn, "openai", tenantOpenAI)
	c := openAIClient(g, tok)
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three")},
	})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		ch := stream.Current()
		if len(ch.Choices) == 0 {
			t.Errorf("the caller got a usage-only chunk it did not ask for: %+v", ch)
		}
		acc.AddChunk(ch)
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if acc.Usage.TotalTokens != 0 {
		t.Errorf("usage reached the caller: %+v", acc.Usage)
	}
	evs := MustEvents(t, g, 1)
	if len(evs) != 1 || evs[0].InputTokens == 0 || evs[0].OutputTokens == 0 {
		t.Errorf("the stream was not metered: %+v", evs)
	}
}
