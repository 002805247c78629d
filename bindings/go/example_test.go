package literllm_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	literllm "github.com/literllm/literllm/bindings/go"
)

// The examples run against the local upstream started by TestMain; its base
// URL is read from the environment the test harness sets.
func exampleClient() *literllm.Client {
	noRetries := 0
	c, err := literllm.NewClient(&literllm.Config{MaxRetries: &noRetries, Providers: map[string]literllm.ProviderConfig{
		"openai": {BaseURL: os.Getenv("LITERLLM_TEST_BASE_URL"), APIKey: "sk-example-123456"}}})
	if err != nil {
		panic(err)
	}
	return c
}

func Example() {
	client := exampleClient()
	defer client.Close()

	resp, err := client.Chat(context.Background(), &literllm.ChatRequest{
		Model:    "openai/gpt-4o-mini",
		Messages: []literllm.Message{literllm.UserMessage("hi")},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(resp.Text())
	// Output: Hello from the local upstream. You said: hi
}

func ExampleClient_Stream() {
	client := exampleClient()
	defer client.Close()

	stream, err := client.Stream(context.Background(), &literllm.ChatRequest{
		Model:    "openai/gpt-4o-mini",
		Messages: []literllm.Message{literllm.UserMessage("a b c")},
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer stream.Close()
	for stream.Next() {
		fmt.Print(stream.Chunk().Text())
	}
	if err := stream.Err(); err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println()
	// Output: Hello from the local upstream. You said: a b c
}

func ExampleError() {
	client := exampleClient()
	defer client.Close()

	_, err := client.Chat(context.Background(), &literllm.ChatRequest{
		Model:        "openai/gpt-4o-mini",
		Messages:     []literllm.Message{literllm.UserMessage("hi")},
		ExtraHeaders: map[string]string{"x-upstream-status": "429", "x-upstream-retry-after": "2"},
	})
	var e *literllm.Error
	if errors.As(err, &e) && errors.Is(err, literllm.ErrRateLimited) {
		fmt.Println(e.Kind, e.HTTPStatus, e.RetryAfter)
	}
	// Output: LLM_ERR_RATE_LIMITED 429 2s
}
