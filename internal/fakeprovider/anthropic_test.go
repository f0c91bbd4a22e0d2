// SPDX-License-Identifier: Apache-2.0

package fakeprovider_test

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/google/go-cmp/cmp"

	"github.com/keygate/keygate/internal/fakeprovider"
)

func anthropicClient(tb testing.TB, s *fakeprovider.Server) anthropic.Client {
	tb.Helper()
	return anthropic.NewClient(
		option.WithBaseURL(s.BaseURL("anthropic")),
		option.WithAPIKey(testKeys["anthropic"]),
		option.WithMaxRetries(0),
	)
}

func messageParams(text string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 100,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
	}
}

func TestAnthropicMessages(t *testing.T) {
	s := MustStart(t)
	c := anthropicClient(t, s)
	got, err := c.Messages.New(context.Background(), messageParams("hello claude"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("This is a fake reply from anthropic. You said: hello claude", got.Content[0].Text); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if got.Usage.InputTokens != 2 || got.Usage.OutputTokens != 11 || got.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("usage %+v stop %q", got.Usage, got.StopReason)
	}
	r, _ := s.LastRequest()
	// anthropic-sdk-go v2 sends its key as "Authorization: Bearer", an
	// alternative scheme of the catalog row; the fake reads either.
	if !r.Key.Equal(mustSecret(testKeys["anthropic"])) {
		t.Error("the fake did not see the SDK's key")
	}
	if r.Header.Get("Anthropic-Version") == "" {
		t.Error("the SDK's anthropic-version header was not recorded")
	}
}

func TestAnthropicMessagesMaxTokens(t *testing.T) {
	s := MustStart(t)
	c := anthropicClient(t, s)
	p := messageParams("hello")
	p.MaxTokens = 3
	got, err := c.Messages.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got.StopReason != anthropic.StopReasonMaxTokens || got.Usage.OutputTokens != 3 {
		t.Errorf("stop %q usage %+v", got.StopReason, got.Usage)
	}
}

func TestAnthropicMessagesStream(t *testing.T) {
	s := MustStart(t)
	c := anthropicClient(t, s)
	stream := c.Messages.NewStreaming(context.Background(), messageParams("stream me please"))
	var acc anthropic.Message
	var types []string
	for stream.Next() {
		ev := stream.Current()
		types = append(types, ev.Type)
		if err := acc.Accumulate(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("This is a fake reply from anthropic. You said: stream me please", acc.Content[0].Text); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
	if acc.Usage.InputTokens != 3 || acc.Usage.OutputTokens != 12 {
		t.Errorf("usage = %+v", acc.Usage)
	}
	// The SDK consumes "ping" events itself.
	want := []string{"message_start", "content_block_start", "content_block_delta"}
	if diff := cmp.Diff(want, types[:3]); diff != "" {
		t.Errorf("first events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"content_block_stop", "message_delta", "message_stop"}, types[len(types)-3:]); diff != "" {
		t.Errorf("last events (-want +got):\n%s", diff)
	}
}

func TestAnthropicCountTokensAndModels(t *testing.T) {
	s := MustStart(t)
	c := anthropicClient(t, s)
	n, err := c.Messages.CountTokens(context.Background(), anthropic.MessageCountTokensParams{
		Model:    "claude-sonnet-4-5",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("count these four words"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.InputTokens != 4 {
		t.Errorf("input tokens = %d, want 4", n.InputTokens)
	}
	page, err := c.Models.List(context.Background(), anthropic.ModelListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].ID != "claude-sonnet-4-5" {
		t.Errorf("models = %+v", page.Data)
	}
}
