package literllm

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Typed models of the OpenAI chat-completions shapes the library speaks. Each
// request type has Extra for fields it does not name (merged into its JSON);
// each answer keeps its whole JSON in Raw.

// ChatRequest is an OpenAI chat-completions request, with literllm's
// extensions (ExtraBody, ExtraHeaders, TimeoutSecs).
type ChatRequest struct {
	Model               string             `json:"model"`
	Messages            []Message          `json:"messages"`
	Tools               []Tool             `json:"tools,omitempty"`
	ToolChoice          any                `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool              `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *ResponseFormat    `json:"response_format,omitempty"`
	Temperature         *float64           `json:"temperature,omitempty"`
	TopP                *float64           `json:"top_p,omitempty"`
	N                   *int               `json:"n,omitempty"`
	Stop                any                `json:"stop,omitempty"`
	MaxTokens           *int               `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int               `json:"max_completion_tokens,omitempty"`
	PresencePenalty     *float64           `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64           `json:"frequency_penalty,omitempty"`
	LogitBias           map[string]float64 `json:"logit_bias,omitempty"`
	Logprobs            *bool              `json:"logprobs,omitempty"`
	TopLogprobs         *int               `json:"top_logprobs,omitempty"`
	Seed                *int64             `json:"seed,omitempty"`
	User                string             `json:"user,omitempty"`
	ReasoningEffort     string             `json:"reasoning_effort,omitempty"`
	Metadata            map[string]string  `json:"metadata,omitempty"`
	// ExtraBody adds fields to the provider's request body (top_k, ...).
	ExtraBody map[string]any `json:"extra_body,omitempty"`
	// ExtraHeaders adds HTTP headers to this request.
	ExtraHeaders map[string]string `json:"extra_headers,omitempty"`
	// TimeoutSecs bounds this request as a whole (0: the client's).
	TimeoutSecs float64 `json:"timeout_secs,omitempty"`
	// Extra holds fields this type does not name; they go into the JSON as they are.
	Extra map[string]json.RawMessage `json:"-"`
}

// Message is a chat message. Content is a string or a slice of parts
// (ContentPart or any JSON-marshalable value).
type Message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content,omitempty"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	// ThinkingBlocks is an assistant message's reasoning as the provider
	// wants it back (Anthropic's signed thinking, Gemini's thought
	// signatures, Bedrock's reasoning blocks): what the answer's message held
	// (ResponseMessage.ToMessage copies it). Anthropic refuses a tool result
	// after thinking without it.
	ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
	// ReasoningContent is an assistant message's reasoning as text, as the
	// answer's message held it (ResponseMessage.ToMessage copies it; nil:
	// none, and an empty reasoning is sent as ""). It is sent back because
	// DeepSeek's thinking mode refuses a tool loop whose assistant turns lack
	// it, even an empty one; the library drops it for the hosts that refuse
	// the field (groq, mistral, cerebras).
	ReasoningContent *string `json:"reasoning_content,omitempty"`
}

// ContentPart is one part of a message's content ("text", "image_url", ...).
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image part's reference.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UserMessage, SystemMessage and AssistantMessage make a text message.
func UserMessage(text string) Message      { return Message{Role: "user", Content: text} }
func SystemMessage(text string) Message    { return Message{Role: "system", Content: text} }
func AssistantMessage(text string) Message { return Message{Role: "assistant", Content: text} }

// ToolMessage answers a tool call.
func ToolMessage(toolCallID, content string) Message {
	return Message{Role: "tool", Content: content, ToolCallID: toolCallID}
}

// Tool is a function the model may call.
type Tool struct {
	Type     string      `json:"type"` // "function"
	Function FunctionDef `json:"function"`
}

// FunctionDef describes a callable function; Parameters is a JSON Schema.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ResponseFormat asks for JSON output ("json_object" or "json_schema").
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema is the schema of a "json_schema" response format.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolCall is a call the model made.
type ToolCall struct {
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
	// ExtraContent is a provider's own data on the call, kept to be sent back
	// (Gemini's OpenAI-compatible API puts its thought signature in
	// extra_content.google.thought_signature).
	ExtraContent json.RawMessage `json:"extra_content,omitempty"`
}

// FunctionCall names the function and its arguments as JSON text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// ChatResponse is an OpenAI chat.completion object plus literllm's "provider"
// and "stats".
type ChatResponse struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	Provider          string   `json:"provider"`
	Stats             *Stats   `json:"stats,omitempty"`
	// Raw is the response's whole JSON.
	Raw json.RawMessage `json:"-"`
}

// Choice is one answer of a response.
type Choice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// ResponseMessage is the assistant's message in a response.
type ResponseMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	Refusal   *string    `json:"refusal,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ReasoningContent is the model's reasoning as text, when the provider
	// gives it (Anthropic's thinking, Gemini's thoughts, DeepSeek's reasoning).
	ReasoningContent *string `json:"reasoning_content,omitempty"`
	// ThinkingBlocks is the reasoning as the provider wants it back in the
	// next request (see Message.ThinkingBlocks).
	ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
}

// ToMessage gives the answer's message as a message of the next request, to
// continue the conversation: role, content, tool calls (with their
// ExtraContent), ThinkingBlocks and ReasoningContent, the reasoning that
// providers that reason need back beside tool results (Anthropic, Gemini and
// Bedrock their blocks; DeepSeek's thinking mode its reasoning_content).
func (m *ResponseMessage) ToMessage() Message {
	msg := Message{Role: m.Role, ToolCalls: m.ToolCalls, ThinkingBlocks: m.ThinkingBlocks}
	if m.Content != nil {
		msg.Content = *m.Content
	}
	if m.ReasoningContent != nil {
		rc := *m.ReasoningContent
		msg.ReasoningContent = &rc
	}
	return msg
}

// Usage counts tokens.
type Usage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details,omitempty"`
}

// Stats are literllm's figures about the call.
type Stats struct {
	BytesSent     uint64  `json:"bytes_sent"`
	BytesReceived uint64  `json:"bytes_received"`
	LatencyMs     float64 `json:"latency_ms"`
	HTTPStatus    int     `json:"http_status"`
	Retries       int     `json:"retries"`
}

// Text is the first choice's content ("" when it has none).
func (r *ChatResponse) Text() string {
	if len(r.Choices) == 0 || r.Choices[0].Message.Content == nil {
		return ""
	}
	return *r.Choices[0].Message.Content
}

// FinishReason is the first choice's finish reason.
func (r *ChatResponse) FinishReason() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].FinishReason
}

// ToolCalls are the first choice's tool calls.
func (r *ChatResponse) ToolCalls() []ToolCall {
	if len(r.Choices) == 0 {
		return nil
	}
	return r.Choices[0].Message.ToolCalls
}

// ChatChunk is one "chat.completion.chunk" of a stream.
type ChatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
	// Raw is the chunk's whole JSON.
	Raw json.RawMessage `json:"-"`
}

// ChunkChoice is one choice's delta in a chunk.
type ChunkChoice struct {
	Index        int     `json:"index"`
	Delta        Delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Delta is what a chunk adds to a choice.
type Delta struct {
	Role      string          `json:"role,omitempty"`
	Content   string          `json:"content,omitempty"`
	Refusal   string          `json:"refusal,omitempty"`
	ToolCalls []ToolCallDelta `json:"tool_calls,omitempty"`
	// ReasoningContent is a piece of the model's reasoning as text.
	ReasoningContent string `json:"reasoning_content,omitempty"`
	// ThinkingBlocks are reasoning blocks as the provider wants them back
	// (the stream's Final response gathers them on its message).
	ThinkingBlocks json.RawMessage `json:"thinking_blocks,omitempty"`
}

// ToolCallDelta is a piece of a tool call; pieces with the same Index join.
type ToolCallDelta struct {
	Index    int          `json:"index"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// Text is the first choice's content delta.
func (c *ChatChunk) Text() string {
	if len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Delta.Content
}

// Preview is what a call would send (llm_preview_request), credentials redacted.
type Preview struct {
	Provider string            `json:"provider"`
	Method   string            `json:"method"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	Raw      json.RawMessage   `json:"-"`
}

// ProviderInfo is one entry of a provider listing (llm_providers_json).
type ProviderInfo struct {
	Name       string          `json:"name"`
	Aliases    []string        `json:"aliases"`
	BaseURL    string          `json:"base_url"`
	Auth       json.RawMessage `json:"auth"`
	APIKeyEnv  string          `json:"api_key_env"`
	Prefixes   []string        `json:"prefixes"`
	Registered bool            `json:"registered"`
}

// Provider registers an OpenAI-compatible provider (llm_register_provider).
// Auth is "bearer" (default), "none" or map[string]string{"header": name}.
type Provider struct {
	Name      string            `json:"name"`
	BaseURL   string            `json:"base_url"`
	Prefixes  []string          `json:"prefixes"`
	Auth      any               `json:"auth,omitempty"`
	APIKey    string            `json:"api_key,omitempty"`
	APIKeyEnv string            `json:"api_key_env,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// Config is a client's configuration (see llm_client_new); zero fields take
// the library's defaults. Extra holds fields this type does not name.
type Config struct {
	APIKey                string                     `json:"api_key,omitempty"`
	BaseURL               string                     `json:"base_url,omitempty"`
	ModelHint             string                     `json:"model_hint,omitempty"`
	TimeoutSecs           float64                    `json:"timeout_secs,omitempty"`
	ConnectTimeoutSecs    float64                    `json:"connect_timeout_secs,omitempty"`
	StreamIdleTimeoutSecs float64                    `json:"stream_idle_timeout_secs,omitempty"`
	MaxRetries            *int                       `json:"max_retries,omitempty"`
	IOThreads             *int                       `json:"io_threads,omitempty"` // nil: 1 loop; 0: one per processor
	Providers             map[string]ProviderConfig  `json:"providers,omitempty"`
	Headers               map[string]string          `json:"headers,omitempty"`
	Extra                 map[string]json.RawMessage `json:"-"`
}

// ProviderConfig overrides one provider's settings in a Config.
type ProviderConfig struct {
	APIKey  string            `json:"api_key,omitempty"`
	BaseURL string            `json:"base_url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// chatRequestFields is ChatRequest without its JSON methods.
type chatRequestFields ChatRequest

// MarshalJSON writes the named fields and then Extra.
func (r ChatRequest) MarshalJSON() ([]byte, error) {
	return withExtra(chatRequestFields(r), r.Extra)
}

// marshalRequest is json.Marshal(req), sparing the MarshalJSON indirection
// (and encoding/json's re-scan of its output) when there is no Extra.
func marshalRequest(req *ChatRequest) ([]byte, error) {
	if req == nil {
		return []byte("null"), nil
	}
	if len(req.Extra) == 0 {
		return json.Marshal((*chatRequestFields)(req))
	}
	return json.Marshal(req)
}

// UnmarshalJSON reads the named fields and keeps the others in Extra.
func (r *ChatRequest) UnmarshalJSON(b []byte) error {
	type plain ChatRequest
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	extra, err := unknownFields(b, reflect.TypeOf(p))
	if err != nil {
		return err
	}
	*r = ChatRequest(p)
	r.Extra = extra
	return nil
}

// MarshalJSON writes the named fields and then Extra.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return withExtra(plain(c), c.Extra)
}

// withExtra marshals v and adds the fields of extra (which win over v's).
func withExtra(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, x := range extra {
		m[k] = x
	}
	return json.Marshal(m)
}

var knownFieldsCache sync.Map // reflect.Type -> map[string]bool

func unknownFields(b []byte, t reflect.Type) (map[string]json.RawMessage, error) {
	known, ok := knownFieldsCache.Load(t)
	if !ok {
		k := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			tag := t.Field(i).Tag.Get("json")
			name := strings.Split(tag, ",")[0]
			if name != "" && name != "-" {
				k[name] = true
			}
		}
		known, _ = knownFieldsCache.LoadOrStore(t, k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	for k, v := range m {
		if !known.(map[string]bool)[k] {
			if extra == nil {
				extra = map[string]json.RawMessage{}
			}
			extra[k] = v
		}
	}
	return extra, nil
}
