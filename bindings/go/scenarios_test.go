package literllm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The shared scenario list (tests/scenarios/scenarios.json), read at run time:
// every scenario is a test case; one this runner cannot run fails.

type scenarioFile struct {
	Format       int                        `json:"format"`
	ClientConfig map[string]json.RawMessage `json:"client_config"`
	Scenarios    []json.RawMessage          `json:"scenarios"`
}

type scenario struct {
	Name      string                     `json:"name"`
	Kind      string                     `json:"kind"`
	Request   json.RawMessage            `json:"request"`
	Expect    map[string]json.RawMessage `json:"expect"`
	Config    map[string]json.RawMessage `json:"config"`
	Provider  json.RawMessage            `json:"provider"`
	File      string                     `json:"file"`
	Callers   int                        `json:"callers"`
	CallsEach int                        `json:"calls_each"`
	About     string                     `json:"about"`
	Endpoint  string                     `json:"endpoint"`
	Uploads   []map[string]string        `json:"uploads"`
	Upload    map[string]string          `json:"upload"`
	Batch     map[string]any             `json:"batch"`
	MaxPolls  int                        `json:"max_polls"`
	// FirstExpect and ToolResult: kind "tool_loop" (its first answer, and
	// the content of the tool message answering each tool call).
	FirstExpect map[string]json.RawMessage `json:"first_expect"`
	ToolResult  string                     `json:"tool_result"`
}

// uploads decodes a scenario's "uploads" ({"base64"} or {"text"} each).
func (s scenario) uploads(t *testing.T) [][]byte {
	var out [][]byte
	for _, u := range s.Uploads {
		if b64, ok := u["base64"]; ok {
			b, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatalf("uploads: %v", err)
			}
			out = append(out, b)
		} else {
			out = append(out, []byte(u["text"]))
		}
	}
	return out
}

func scenariosPath() string {
	if p := os.Getenv("LITERLLM_SCENARIOS"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "tests", "scenarios", "scenarios.json")
}

func loadScenarios(t *testing.T) (scenarioFile, []scenario) {
	t.Helper()
	b, err := os.ReadFile(scenariosPath())
	if err != nil {
		t.Fatalf("reading the scenario list: %v", err)
	}
	// {base_url} may appear anywhere: replace it in the text.
	b = []byte(strings.ReplaceAll(string(b), "{base_url}", upstreamBaseURL))
	var f scenarioFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("parsing the scenario list: %v", err)
	}
	if f.Format != 1 {
		t.Fatalf("scenario list format %d: this runner knows format 1", f.Format)
	}
	var list []scenario
	for _, raw := range f.Scenarios {
		var s scenario
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("parsing a scenario: %v", err)
		}
		list = append(list, s)
	}
	if len(list) == 0 {
		t.Fatal("the scenario list is empty")
	}
	return f, list
}

func TestScenarios(t *testing.T) {
	f, list := loadScenarios(t)
	for _, s := range list {
		s := s
		t.Run(s.Name, func(t *testing.T) {
			cfg := map[string]json.RawMessage{}
			for k, v := range f.ClientConfig {
				cfg[k] = v
			}
			for k, v := range s.Config {
				cfg[k] = v
			}
			runScenario(t, s, cfg)
		})
	}
}

// outcome is what a scenario observed, checked against its "expect".
type outcome struct {
	err       error
	resp      *ChatResponse
	chunks    int
	text      string // joined stream text
	preview   *Preview
	elapsed   time.Duration
	knownKeys map[string]bool // expect keys the kind itself checked
	call      *Response       // kind "call"
}

func runScenario(t *testing.T, s scenario, cfg map[string]json.RawMessage) {
	cfgJSON, _ := json.Marshal(cfg)
	newClient := func(t *testing.T) *Client {
		c, err := NewClientJSON(string(cfgJSON))
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	req := func(t *testing.T, raw json.RawMessage) *ChatRequest {
		var r ChatRequest
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Errorf("request: %v", err) // Errorf: also called from goroutines
		}
		return &r
	}
	switch s.Kind {
	case "chat":
		// The blocking path (background context) and the callback path
		// (cancellable context) both run.
		withBothContexts(t, "blocking", "async", func(t *testing.T, ctx context.Context) {
			resp, err := newClient(t).Chat(ctx, req(t, s.Request))
			checkExpect(t, s, outcome{err: err, resp: resp})
		})
	case "stream":
		t.Run("next", func(t *testing.T) {
			c := newClient(t)
			st, err := c.Stream(context.Background(), req(t, s.Request))
			o := outcome{err: err}
			if err == nil {
				var sb strings.Builder
				for st.Next() {
					o.chunks++
					sb.WriteString(st.Chunk().Text())
				}
				o.text = sb.String()
				o.err = st.Err()
				if o.err == nil {
					o.resp, o.err = st.Final()
				}
				st.Close()
			}
			checkExpect(t, s, o)
		})
		t.Run("callback", func(t *testing.T) {
			c := newClient(t)
			o := outcome{}
			var sb strings.Builder
			o.resp, o.err = c.StreamFunc(context.Background(), req(t, s.Request), func(ch *ChatChunk) error {
				o.chunks++
				sb.WriteString(ch.Text())
				return nil
			})
			o.text = sb.String()
			checkExpect(t, s, o)
		})
	case "tool_loop":
		// The blocking path and the callback path, as for chat.
		withBothContexts(t, "blocking", "async", func(t *testing.T, ctx context.Context) {
			runToolLoop(ctx, t, s, newClient(t), req(t, s.Request))
		})
	case "cancel_stream":
		t.Run("context", func(t *testing.T) {
			c := newClient(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			st, err := c.Stream(ctx, req(t, s.Request))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			o := outcome{}
			for st.Next() {
				o.chunks++
				if o.chunks == 1 {
					go cancel() // from another goroutine
				}
			}
			o.err, o.elapsed = st.Err(), time.Since(start)
			if o.err != nil && !errors.Is(o.err, context.Canceled) {
				t.Errorf("a context cancellation should match context.Canceled: %v", o.err)
			}
			checkExpect(t, s, o)
		})
		t.Run("callback", func(t *testing.T) {
			c := newClient(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			o := outcome{}
			o.resp, o.err = c.StreamFunc(ctx, req(t, s.Request), func(*ChatChunk) error {
				o.chunks++
				if o.chunks == 1 {
					go cancel()
				}
				return nil
			})
			o.elapsed = time.Since(start)
			checkExpect(t, s, o)
		})
	case "concurrent":
		c := newClient(t)
		if s.Callers <= 0 || s.CallsEach <= 0 {
			t.Fatalf("concurrent scenario without callers / calls_each")
		}
		var wg sync.WaitGroup
		for i := 0; i < s.Callers; i++ {
			wg.Add(1)
			go func(caller int) {
				defer wg.Done()
				for call := 0; call < s.CallsEach; call++ {
					sub := func(b []byte) []byte {
						x := strings.ReplaceAll(string(b), "{caller}", fmt.Sprint(caller))
						return []byte(strings.ReplaceAll(x, "{call}", fmt.Sprint(call)))
					}
					ctx := context.Background()
					var cancel context.CancelFunc = func() {}
					if call%2 == 1 { // alternate the blocking and the async path
						ctx, cancel = context.WithCancel(ctx)
					}
					resp, err := c.Chat(ctx, req(t, sub(s.Request)))
					cancel()
					exp := scenario{Name: s.Name, Expect: map[string]json.RawMessage{}}
					for k, v := range s.Expect {
						exp.Expect[k] = sub(v)
					}
					checkExpect(t, exp, outcome{err: err, resp: resp})
				}
			}(i)
		}
		wg.Wait()
	case "call":
		// The blocking path and the callback path, as for chat.
		withBothContexts(t, "blocking", "async", func(t *testing.T, ctx context.Context) {
			r, err := newClient(t).Call(ctx, s.Endpoint, s.Request, s.uploads(t)...)
			checkExpect(t, s, outcome{err: err, call: r})
		})
	case "call_stream":
		// Without and with a cancellable context (the watcher path).
		withBothContexts(t, "next", "context", func(t *testing.T, ctx context.Context) {
			st, err := newClient(t).CallStream(ctx, s.Endpoint, s.Request, s.uploads(t)...)
			checkExpect(t, s, runCallStream(t, s, st, err))
		})
	case "batch":
		checkExpect(t, s, runBatch(t, s, newClient(t)))
	case "preview":
		pv, err := newClient(t).Preview(req(t, s.Request), false)
		checkExpect(t, s, outcome{err: err, preview: pv})
	case "register":
		c := newClient(t)
		var prov Provider
		if err := json.Unmarshal(s.Provider, &prov); err != nil {
			t.Fatalf("provider: %v", err)
		}
		if err := c.RegisterProvider(&prov); err != nil {
			t.Fatalf("register: %v", err)
		}
		resp, err := c.Chat(context.Background(), req(t, s.Request))
		checkExpect(t, s, outcome{err: err, resp: resp})
	case "config_file":
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(s.File), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := NewClientFromFile(path)
		if err != nil {
			t.Fatalf("client from %s: %v", path, err)
		}
		defer c.Close()
		resp, err := c.Chat(context.Background(), req(t, s.Request))
		checkExpect(t, s, outcome{err: err, resp: resp})
	default:
		t.Fatalf("scenario kind %q: this runner cannot run it", s.Kind)
	}
}

func checkExpect(t *testing.T, s scenario, o outcome) {
	t.Helper()
	var e *Error
	if o.err != nil && !errors.As(o.err, &e) {
		t.Errorf("error is not an *Error: %T %v", o.err, o.err)
		return
	}
	status := "LLM_OK"
	if e != nil {
		status = e.Kind.String()
		if !errors.Is(o.err, e.Kind) {
			t.Errorf("errors.Is(err, %v) is false", e.Kind)
		}
	}
	str := func(k string) string {
		var v string
		if err := json.Unmarshal(s.Expect[k], &v); err != nil {
			t.Errorf("expect.%s: %v", k, err)
		}
		return v
	}
	num := func(k string) int64 {
		var v int64
		if err := json.Unmarshal(s.Expect[k], &v); err != nil {
			t.Errorf("expect.%s: %v", k, err)
		}
		return v
	}
	if _, ok := s.Expect["status"]; !ok {
		t.Errorf("scenario %s has no expect.status", s.Name)
		return
	}
	if want := str("status"); status != want {
		t.Errorf("status %s, want %s (error: %v)", status, want, o.err)
		return
	}
	for k := range s.Expect {
		if o.knownKeys[k] {
			continue
		}
		switch k {
		case "status":
		case "text":
			got := o.text
			if o.resp != nil {
				got = o.resp.Text()
				if o.chunks > 0 && o.text != got {
					t.Errorf("joined chunks %q differ from the final text %q", o.text, got)
				}
			}
			if got != str(k) {
				t.Errorf("text %q, want %q", got, str(k))
			}
		case "reasoning_content":
			got := ""
			if o.resp != nil && len(o.resp.Choices) > 0 && o.resp.Choices[0].Message.ReasoningContent != nil {
				got = *o.resp.Choices[0].Message.ReasoningContent
			}
			if got != str(k) {
				t.Errorf("reasoning_content %q, want %q", got, str(k))
			}
		case "finish_reason":
			if o.resp == nil || o.resp.FinishReason() != str(k) {
				t.Errorf("finish_reason: want %q, response %+v", str(k), o.resp)
			}
		case "provider":
			got := ""
			switch {
			case e != nil:
				got = e.Provider
			case o.resp != nil:
				got = o.resp.Provider
			case o.preview != nil:
				got = o.preview.Provider
			}
			if got != str(k) {
				t.Errorf("provider %q, want %q", got, str(k))
			}
		case "prompt_tokens", "completion_tokens":
			if o.resp == nil || o.resp.Usage == nil {
				t.Errorf("%s: no usage", k)
				break
			}
			got := o.resp.Usage.PromptTokens
			if k == "completion_tokens" {
				got = o.resp.Usage.CompletionTokens
			}
			if got != num(k) {
				t.Errorf("%s %d, want %d", k, got, num(k))
			}
		case "text_json":
			if o.resp == nil {
				t.Errorf("text_json: no response")
				break
			}
			var got, want any
			if err := json.Unmarshal([]byte(o.resp.Text()), &got); err != nil {
				t.Errorf("text %q is not JSON: %v", o.resp.Text(), err)
			}
			_ = json.Unmarshal(s.Expect[k], &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("text_json %v, want %v", got, want)
			}
		case "tool_calls":
			if o.resp == nil {
				t.Errorf("tool_calls: no response")
				break
			}
			var want []map[string]any
			_ = json.Unmarshal(s.Expect[k], &want)
			got := o.resp.ToolCalls()
			if len(got) != len(want) {
				t.Errorf("%d tool calls, want %d: %+v", len(got), len(want), got)
				break
			}
			for i, w := range want {
				var args any
				if err := json.Unmarshal([]byte(got[i].Function.Arguments), &args); err != nil {
					t.Errorf("tool call %d arguments %q: %v", i, got[i].Function.Arguments, err)
				}
				g := map[string]any{"id": got[i].ID, "type": got[i].Type,
					"function": map[string]any{"name": got[i].Function.Name, "arguments": args}}
				if !reflect.DeepEqual(normalize(g), normalize(w)) {
					t.Errorf("tool call %d: %v, want %v", i, g, w)
				}
			}
		case "http_status", "retry_after_ms", "code", "type", "message_contains", "message_excludes":
			if e == nil {
				t.Errorf("%s: no error", k)
				break
			}
			switch k {
			case "http_status":
				if int64(e.HTTPStatus) != num(k) {
					t.Errorf("http_status %d, want %d", e.HTTPStatus, num(k))
				}
			case "retry_after_ms":
				if e.RetryAfter.Milliseconds() != num(k) {
					t.Errorf("retry after %v, want %d ms", e.RetryAfter, num(k))
				}
			case "code":
				if e.Code != str(k) {
					t.Errorf("code %q, want %q", e.Code, str(k))
				}
			case "type":
				if e.Type != str(k) {
					t.Errorf("type %q, want %q", e.Type, str(k))
				}
			case "message_contains":
				if !strings.Contains(e.Message, str(k)) {
					t.Errorf("message %q lacks %q", e.Message, str(k))
				}
			case "message_excludes":
				if strings.Contains(e.Error(), str(k)) {
					t.Errorf("message %q holds %q", e.Error(), str(k))
				}
			}
		case "min_chunks":
			if int64(o.chunks) < num(k) {
				t.Errorf("%d chunks, want at least %d", o.chunks, num(k))
			}
		case "within_ms":
			if o.elapsed > time.Duration(num(k))*time.Millisecond {
				t.Errorf("took %v, want within %d ms", o.elapsed, num(k))
			}
		case "method", "url", "header_authorization", "excludes", "body_model":
			if o.preview == nil {
				t.Errorf("%s: no preview", k)
				break
			}
			pv := o.preview
			switch k {
			case "method":
				if pv.Method != str(k) {
					t.Errorf("method %q, want %q", pv.Method, str(k))
				}
			case "url":
				if pv.URL != str(k) {
					t.Errorf("url %q, want %q", pv.URL, str(k))
				}
			case "header_authorization":
				got := ""
				for name, v := range pv.Headers {
					if strings.EqualFold(name, "authorization") {
						got = v
					}
				}
				if got != str(k) {
					t.Errorf("authorization %q, want %q", got, str(k))
				}
			case "excludes":
				if strings.Contains(string(pv.Raw), str(k)) {
					t.Errorf("preview holds %q: %s", str(k), pv.Raw)
				}
			case "body_model":
				var body struct {
					Model string `json:"model"`
				}
				if err := json.Unmarshal([]byte(pv.Body), &body); err != nil || body.Model != str(k) {
					t.Errorf("body model %q (%v), want %q", body.Model, err, str(k))
				}
			}
		case "object", "ids_include", "vectors", "dimensions", "content_type", "min_bytes", "fields", "lengths":
			checkCallExpect(t, s, k, o.call)
		default:
			t.Errorf("expect.%s: this runner does not know the field", k)
		}
	}
}

// withBothContexts runs f as subtest `plain` with a background context (the
// blocking path) and as subtest `cancellable` with a cancellable one (the
// callback path).
func withBothContexts(t *testing.T, plain, cancellable string, f func(t *testing.T, ctx context.Context)) {
	t.Run(plain, func(t *testing.T) { f(t, context.Background()) })
	t.Run(cancellable, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f(t, ctx)
	})
}

// runToolLoop runs kind "tool_loop" as a program continues a conversation
// through its tool calls, with the typed models: the first answer's message
// goes back through ToMessage, then one tool message per tool call.
func runToolLoop(ctx context.Context, t *testing.T, s scenario, c *Client, r *ChatRequest) {
	t.Helper()
	first, err := c.Chat(ctx, r)
	if !t.Run("first_answer", func(t *testing.T) {
		checkExpect(t, scenario{Name: s.Name, Expect: s.FirstExpect}, outcome{err: err, resp: first})
	}) {
		return
	}
	if first == nil || len(first.Choices) == 0 {
		t.Fatalf("the first answer has no message: %+v", first)
	}
	r.Messages = append(r.Messages, first.Choices[0].Message.ToMessage())
	for _, call := range first.ToolCalls() {
		r.Messages = append(r.Messages, ToolMessage(call.ID, s.ToolResult))
	}
	resp, err := c.Chat(ctx, r)
	checkExpect(t, s, outcome{err: err, resp: resp})
}

// normalize makes JSON-shaped values comparable (numbers as float64).
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// checkCallExpect checks one expect field of kind "call".
func checkCallExpect(t *testing.T, s scenario, k string, r *Response) {
	t.Helper()
	if r == nil {
		t.Errorf("%s: no response", k)
		return
	}
	var answer struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := r.Decode(&answer); err != nil {
		t.Errorf("the answer %s: %v", r.JSON, err)
	}
	var want any
	_ = json.Unmarshal(s.Expect[k], &want)
	_, count, dims := r.EmbeddingsFlat()
	switch k {
	case "object":
		if answer.Object != want {
			t.Errorf("object %q, want %v", answer.Object, want)
		}
	case "ids_include":
		for _, id := range want.([]any) {
			found := false
			for _, m := range answer.Data {
				found = found || m.ID == id
			}
			if !found {
				t.Errorf("no model %v in %s", id, r.JSON)
			}
		}
	case "vectors":
		if float64(count) != want || len(r.Embeddings()) != count {
			t.Errorf("%d vectors, want %v", count, want)
		}
	case "dimensions":
		if float64(dims) != want {
			t.Errorf("%d dimensions, want %v", dims, want)
		}
		for i, v := range r.Embeddings() {
			if len(v) != dims {
				t.Errorf("vector %d has %d floats", i, len(v))
			}
		}
	case "content_type":
		if r.ContentType() != want {
			t.Errorf("content type %q, want %v", r.ContentType(), want)
		}
	case "min_bytes":
		if float64(len(r.Bytes())) < want.(float64) {
			t.Errorf("%d bytes, want at least %v", len(r.Bytes()), want)
		}
	case "fields", "lengths":
		checkPaths(t, k, want, r.JSON)
	}
}

// atPath finds the value at a path "a.0.b" (digits index arrays).
func atPath(v any, path string) (any, bool) {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkPaths checks expect "fields" (path: value) or "lengths" (path:
// array length) against an answer's JSON.
func checkPaths(t *testing.T, k string, want any, answer []byte) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(answer, &doc); err != nil {
		t.Errorf("the answer %s: %v", answer, err)
		return
	}
	for path, w := range want.(map[string]any) {
		got, ok := atPath(doc, path)
		if k == "lengths" {
			arr, isArr := got.([]any)
			if !ok || !isArr || float64(len(arr)) != w {
				t.Errorf("lengths.%s: got %v, want %v", path, got, w)
			}
		} else if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("fields.%s: got %v, want %v", path, got, w)
		}
	}
}

// responsesText joins a Responses API response's "output_text" parts.
func responsesText(answer []byte) (text, status string, err error) {
	var r struct {
		Status string `json:"status"`
		Output []struct {
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return "", "", err
	}
	var sb strings.Builder
	for _, item := range r.Output {
		for _, part := range item.Content {
			if part.Type == "output_text" {
				sb.WriteString(part.Text)
			}
		}
	}
	return sb.String(), r.Status, nil
}

// runCallStream reads a CallStream: events checked, deltas joined, the final
// response's text and status compared.
func runCallStream(t *testing.T, s scenario, st *Stream, err error) outcome {
	o := outcome{err: err, knownKeys: map[string]bool{"event_types": true, "final_status": true}}
	if err != nil {
		return o
	}
	defer st.Close()
	var sb strings.Builder
	types := map[string]bool{}
	last := int64(-1)
	for st.Next() {
		o.chunks++
		var ev struct {
			Type     string `json:"type"`
			Sequence *int64 `json:"sequence_number"`
			Delta    string `json:"delta"`
		}
		if err := json.Unmarshal(st.ChunkJSON(), &ev); err != nil || ev.Type == "" || ev.Sequence == nil {
			t.Errorf("an event without type or sequence_number: %s", st.ChunkJSON())
			continue
		}
		if *ev.Sequence <= last {
			t.Errorf("sequence_number %d after %d", *ev.Sequence, last)
		}
		last = *ev.Sequence
		types[ev.Type] = true
		if ev.Type == "response.output_text.delta" {
			sb.WriteString(ev.Delta)
		}
	}
	o.text = sb.String()
	if o.err = st.Err(); o.err != nil {
		return o
	}
	final, err := st.FinalResponse()
	if o.err = err; err != nil {
		return o
	}
	text, status, err := responsesText(final.JSON)
	if err != nil {
		t.Errorf("the final response %s: %v", final.JSON, err)
	}
	if text != o.text {
		t.Errorf("joined deltas %q differ from the final text %q", o.text, text)
	}
	if w, ok := s.Expect["final_status"]; ok {
		var want string
		_ = json.Unmarshal(w, &want)
		if status != want {
			t.Errorf("final status %q, want %q", status, want)
		}
	}
	if w, ok := s.Expect["event_types"]; ok {
		var want []string
		_ = json.Unmarshal(w, &want)
		for _, ty := range want {
			if !types[ty] {
				t.Errorf("no %s event", ty)
			}
		}
	}
	return o
}

// runBatch runs kind "batch" with the binding's file and batch calls.
func runBatch(t *testing.T, s scenario, c *Client) outcome {
	o := outcome{knownKeys: map[string]bool{"batch_status": true, "output_lines": true, "output_contains": true}}
	ctx := context.Background()
	var provider string
	if err := json.Unmarshal(s.Provider, &provider); err != nil {
		t.Fatalf("provider: %v", err)
	}
	var object struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		OutputFileID string `json:"output_file_id"`
	}
	f, err := c.CreateFile(ctx, provider, s.Upload["purpose"], s.Upload["filename"], []byte(s.Upload["content"]), nil)
	if o.err = err; err != nil {
		return o
	}
	_ = f.Decode(&object)
	fields := map[string]any{}
	for k, v := range s.Batch {
		fields[k] = v
	}
	endpoint, _ := fields["endpoint"].(string)
	delete(fields, "endpoint")
	b, err := c.CreateBatch(ctx, provider, object.ID, endpoint, fields)
	if o.err = err; err != nil {
		return o
	}
	_ = b.Decode(&object)
	id := object.ID
	for i := 0; i < s.MaxPolls; i++ {
		b, err = c.RetrieveBatch(ctx, provider, id)
		if o.err = err; err != nil {
			return o
		}
		_ = b.Decode(&object)
		if object.Status == "completed" || object.Status == "failed" || object.Status == "expired" || object.Status == "cancelled" {
			break
		}
	}
	var want struct {
		BatchStatus    string   `json:"batch_status"`
		OutputLines    int      `json:"output_lines"`
		OutputContains []string `json:"output_contains"`
	}
	raw, _ := json.Marshal(s.Expect)
	_ = json.Unmarshal(raw, &want)
	if object.Status != want.BatchStatus {
		t.Errorf("batch status %q, want %q: %s", object.Status, want.BatchStatus, b.JSON)
		return o
	}
	out, _, err := c.FileContent(ctx, provider, object.OutputFileID)
	if o.err = err; err != nil {
		return o
	}
	lines := 0
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines++
		}
	}
	if _, ok := s.Expect["output_lines"]; ok && lines != want.OutputLines {
		t.Errorf("%d output lines, want %d: %s", lines, want.OutputLines, out)
	}
	for _, w := range want.OutputContains {
		if !strings.Contains(string(out), w) {
			t.Errorf("the output lacks %q: %s", w, out)
		}
	}
	return o
}
