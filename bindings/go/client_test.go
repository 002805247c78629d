package literllm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func hello(text string) *ChatRequest {
	return &ChatRequest{Model: "openai/gpt-4o-mini", Messages: []Message{UserMessage(text)}}
}

func TestKindsMatchTheLibrary(t *testing.T) {
	if len(allKinds) == 0 {
		t.Fatal("no kinds")
	}
	for _, k := range allKinds {
		if k.String() != libStatusName(k) {
			t.Errorf("Kind %d: %s, the library says %s", int(k), k.String(), libStatusName(k))
		}
	}
	if Kind(9999).String() != "LLM_ERR_UNKNOWN" || libStatusName(Kind(9999)) != "LLM_ERR_UNKNOWN" {
		t.Errorf("unknown kind: %s", Kind(9999))
	}
}

func TestVersion(t *testing.T) {
	if Version() != HeaderVersion {
		t.Errorf("library %s, header %s", Version(), HeaderVersion)
	}
	if VersionNumber() != HeaderVersionNumber {
		t.Errorf("library %d, header %d", VersionNumber(), HeaderVersionNumber)
	}
	if err := Init(); err != nil {
		t.Error(err)
	}
}

func TestInvalidConfigIsATypedError(t *testing.T) {
	_, err := NewClientJSON(`{"max_retries": "many"}`)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrInvalidArgument || !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("got %v", err)
	}
	if errors.Is(err, ErrTimeout) {
		t.Error("matches the wrong kind")
	}
	if !strings.Contains(e.Message, "max_retries") {
		t.Errorf("message %q does not name the field", e.Message)
	}
	if _, err := NewClientFromFile(filepath.Join(t.TempDir(), "missing.toml")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("missing file: %v", err)
	}
}

func TestTypedConfig(t *testing.T) {
	zero := 0
	c, err := NewClient(&Config{MaxRetries: &zero, Providers: map[string]ProviderConfig{
		"openai": {BaseURL: upstreamBaseURL, APIKey: "sk-typed-config-123"}},
		Extra: map[string]json.RawMessage{"max_choices": json.RawMessage("16")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Chat(context.Background(), hello("typed"))
	if err != nil || r.Text() != "Hello from the local upstream. You said: typed" {
		t.Fatalf("%v %+v", err, r)
	}
	if r.Stats == nil || r.Stats.HTTPStatus != 200 || len(r.Raw) == 0 {
		t.Errorf("stats %+v", r.Stats)
	}
	if _, err := NewClient(&Config{Extra: map[string]json.RawMessage{"no_such_field": json.RawMessage("1")}}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Extra not sent: %v", err)
	}
	// IOThreads reaches the library: 0 (one loop per processor) is sent, a bad value is refused by name.
	b, err := json.Marshal(&Config{IOThreads: &zero})
	if err != nil || !strings.Contains(string(b), `"io_threads":0`) {
		t.Errorf("IOThreads 0: %s %v", b, err)
	}
	bad := 65
	if _, err := NewClient(&Config{IOThreads: &bad}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "io_threads") {
		t.Errorf("IOThreads 65: %v", err)
	}
}

func TestRequestExtraFields(t *testing.T) {
	r := hello("x")
	r.Extra = map[string]json.RawMessage{"service_tier": json.RawMessage(`"flex"`)}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"service_tier":"flex"`) {
		t.Fatalf("%s %v", b, err)
	}
	var back ChatRequest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Extra["service_tier"]) != `"flex"` || back.Model != r.Model || len(back.Extra) != 1 {
		t.Errorf("round trip: %+v", back)
	}
}

func TestClosedClient(t *testing.T) {
	c := testClient(t)
	c.Close()
	c.Close()
	if _, err := c.Chat(context.Background(), hello("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("chat after close: %v", err)
	}
	if _, err := c.Stream(context.Background(), hello("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("stream after close: %v", err)
	}
}

func TestChatContextCancel(t *testing.T) {
	c := testClient(t)
	req := hello("slow")
	req.ExtraHeaders = map[string]string{"x-upstream-delay-ms": "3000"}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Chat(ctx, req)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := c.Chat(ctx2, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if _, err := c.Chat(ctx, req); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: %v", err)
	}
}

func TestCloseCancelsAsyncCalls(t *testing.T) {
	c := testClient(t)
	req := hello("slow")
	req.ExtraHeaders = map[string]string{"x-upstream-delay-ms": "3000"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			_, err := c.Chat(ctx, req)
			errs <- err
		}()
	}
	time.Sleep(100 * time.Millisecond)
	c.Close()
	for i := 0; i < 4; i++ {
		err := <-errs
		if !errors.Is(err, ErrCancelled) && !errors.Is(err, ErrClosed) {
			t.Errorf("got %v", err)
		}
	}
}

func TestStreamOutlivesItsClient(t *testing.T) {
	c := testClient(t)
	req := hello("x")
	req.ExtraHeaders = map[string]string{"x-upstream-generate": "content", "x-upstream-chunk-delay-ms": "20"}
	s, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Next() {
		t.Fatalf("no first chunk: %v", s.Err())
	}
	c.Close()
	for s.Next() {
	}
	if !errors.Is(s.Err(), ErrCancelled) {
		t.Errorf("got %v", s.Err())
	}
	s.Close()
	if s.Next() {
		t.Error("Next after Close")
	}
}

func TestStreamCancelMethodAndFinal(t *testing.T) {
	c := testClient(t)
	req := hello("x")
	req.ExtraHeaders = map[string]string{"x-upstream-generate": "content", "x-upstream-chunk-delay-ms": "20"}
	s, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Final(); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("final before the end: %v", err)
	}
	go func() { time.Sleep(60 * time.Millisecond); s.Cancel() }()
	n := 0
	for s.Next() {
		n++
	}
	if !errors.Is(s.Err(), ErrCancelled) || errors.Is(s.Err(), context.Canceled) {
		t.Errorf("after %d chunks: %v", n, s.Err())
	}
	// A normal stream: Final after the end.
	s2, err := c.Stream(context.Background(), hello("one two three"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var chunks []*ChatChunk
	for s2.Next() {
		chunks = append(chunks, s2.Chunk())
	}
	if s2.Err() != nil || len(chunks) < 2 {
		t.Fatalf("%v, %d chunks", s2.Err(), len(chunks))
	}
	f, err := s2.Final()
	if err != nil || f.Text() != "Hello from the local upstream. You said: one two three" {
		t.Errorf("final %v %+v", err, f)
	}
}

func TestStreamFuncStopsOnError(t *testing.T) {
	c := testClient(t)
	req := hello("x")
	req.ExtraHeaders = map[string]string{"x-upstream-generate": "content", "x-upstream-chunk-delay-ms": "5"}
	stop := errors.New("enough")
	n := 0
	_, err := c.StreamFunc(context.Background(), req, func(*ChatChunk) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("got %v after %d chunks", err, n)
	}
}

func TestProvidersAndRegistration(t *testing.T) {
	list, err := Providers()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range list {
		found = found || p.Name == "openai"
	}
	if !found {
		t.Errorf("no openai in %d providers", len(list))
	}
	c := testClient(t)
	prov := &Provider{Name: "unitlocal", BaseURL: upstreamBaseURL, Prefixes: []string{"unitlocal"}, Auth: "none"}
	if err := c.RegisterProvider(prov); err != nil {
		t.Fatal(err)
	}
	list, err = c.Providers()
	if err != nil || len(list) == 0 || list[0].Name != "unitlocal" || !list[0].Registered {
		t.Fatalf("%v %+v", err, list)
	}
	r, err := c.Chat(context.Background(), &ChatRequest{Model: "unitlocal/m", Messages: []Message{UserMessage("hi")}})
	if err != nil || r.Provider != "unitlocal" {
		t.Fatalf("%v %+v", err, r)
	}
	if err := c.UnregisterProvider("unitlocal"); err != nil {
		t.Fatal(err)
	}
	if err := c.UnregisterProvider("unitlocal"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second unregister: %v", err)
	}
	if err := c.RegisterProvider(&Provider{Name: "bad"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("invalid registration: %v", err)
	}
	// Global registration reaches clients made afterwards.
	if err := RegisterProvider(&Provider{Name: "unitglobal", BaseURL: upstreamBaseURL, Prefixes: []string{"unitglobal"}, Auth: "none"}); err != nil {
		t.Fatal(err)
	}
	defer UnregisterProvider("unitglobal")
	c2 := testClient(t)
	r, err = c2.Chat(context.Background(), &ChatRequest{Model: "unitglobal/m", Messages: []Message{UserMessage("hi")}})
	if err != nil || r.Provider != "unitglobal" {
		t.Fatalf("%v %+v", err, r)
	}
}

func TestPreviewStream(t *testing.T) {
	pv, err := testClient(t).Preview(hello("x"), true)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(pv.Body), &body); err != nil || body["stream"] != true {
		t.Errorf("%v %s", err, pv.Body)
	}
}

func TestManyGoroutinesShareAClient(t *testing.T) {
	c := testClient(t)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				msg := fmt.Sprintf("g%d i%d", g, i)
				ctx := context.Background()
				if i%2 == 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
				}
				r, err := c.Chat(ctx, hello(msg))
				if err != nil || !strings.HasSuffix(r.Text(), msg) {
					t.Errorf("%s: %v", msg, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestConfigFileJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.json")
	cfg := fmt.Sprintf(`{"max_retries":0,"providers":{"openai":{"base_url":%q,"api_key":"sk-json-file-1234"}}}`, upstreamBaseURL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewClientFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Chat(context.Background(), hello("x")); err != nil {
		t.Fatal(err)
	}
}

func TestAbandonedObjectsAreFinalized(t *testing.T) {
	// A client and a stream never closed: the finalizers free them (safety net).
	for i := 0; i < 3; i++ {
		c, err := NewClientJSON(fmt.Sprintf(`{"max_retries":0,"providers":{"openai":{"base_url":%q,"api_key":"sk-x-123456"}}}`, upstreamBaseURL))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		s, err := c.Stream(ctx, hello("abandoned"))
		if err != nil {
			t.Fatal(err)
		}
		s.Next()
		_ = cancel
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
}

// A cancellable context no longer turns Chat into an async call: many calls
// with one pass, every watcher goroutine ends, and Call is cancelled as Chat is.
func TestCancellableContextCalls(t *testing.T) {
	c := testClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		word := fmt.Sprintf("w%d", i)
		r, err := c.Chat(ctx, hello(word))
		if err != nil {
			t.Fatal(err)
		}
		if want := "Hello from the local upstream. You said: " + word; r.Text() != want {
			t.Fatalf("got %q, want %q", r.Text(), want)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before the calls, %d after: a context watcher did not end", before, n)
	}

	slow := map[string]any{"model": "openai/text-embedding-3-small", "input": "x",
		"extra_headers": map[string]string{"x-upstream-delay-ms": "20000"}}
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer ccancel()
	start := time.Now()
	_, err := c.Call(cctx, "embeddings", slow)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call: got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Call's cancel took %v", d)
	}
}

// Cancels racing with answers: each call ends, answered or cancelled, never hung.
func TestContextCancelRacesWithTheAnswer(t *testing.T) {
	c := testClient(t)
	req := hello("race")
	req.ExtraHeaders = map[string]string{"x-upstream-delay-ms": "5"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g*25+i)%12)*time.Millisecond)
				_, err := c.Chat(ctx, req)
				cancel()
				k := "answered"
				if err != nil {
					k = "cancelled"
					if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("got %v", err)
					}
				}
				mu.Lock()
				counts[k]++
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	if counts["answered"]+counts["cancelled"] != 100 || counts["cancelled"] == 0 {
		t.Errorf("outcomes: %v", counts)
	}
}

// A callback that panics (or calls runtime.Goexit, as t.Fatal does) while the
// caller recovers: the stream is cancelled and waited for before its callback
// handle goes, so the library never calls back through a deleted handle (it
// did: the process died with "misuse of an invalid Handle" on the I/O thread).
func TestStreamFuncCallbackThatPanics(t *testing.T) {
	c := testClient(t)
	req := hello("x")
	req.ExtraHeaders = map[string]string{"x-upstream-generate": "content", "x-upstream-chunk-delay-ms": "10"}
	for i := 0; i < 3; i++ {
		got := func() (r any) {
			defer func() { r = recover() }()
			_, _ = c.StreamFunc(context.Background(), req, func(*ChatChunk) error { panic("handler bug") })
			return nil
		}()
		if got != "handler bug" {
			t.Fatalf("recovered %v", got)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.StreamFunc(context.Background(), req, func(*ChatChunk) error { runtime.Goexit(); return nil })
	}()
	<-done
	// Chunks that would have come meanwhile (the stream ran for 10 ms a chunk).
	time.Sleep(150 * time.Millisecond)
	r, err := c.Chat(context.Background(), hello("still here"))
	if err != nil || r.Text() == "" {
		t.Fatalf("after the panics: %v", err)
	}
}

// A stream keeps its client alive: a client nobody else refers to is not
// finalized (which would free it and cancel the stream) while its stream runs.
func TestStreamKeepsItsClientAlive(t *testing.T) {
	open := func() (*Stream, error) {
		c, err := NewClientJSON(fmt.Sprintf(`{"max_retries":0,"providers":{"openai":{"base_url":%q,"api_key":"sk-x-123456"}}}`, upstreamBaseURL))
		if err != nil {
			return nil, err
		}
		req := hello("one two three four five six seven eight")
		req.ExtraHeaders = map[string]string{"x-upstream-chunk-delay-ms": "10"}
		return c.Stream(context.Background(), req)
	}
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for s.Next() {
		n++
		runtime.GC()
	}
	if s.Err() != nil || n < 3 {
		t.Fatalf("after %d chunks: %v", n, s.Err())
	}
	if _, err := s.Final(); err != nil {
		t.Fatal(err)
	}
}

// Text that C would read up to a NUL byte is refused, naming what held it,
// instead of being cut short.
func TestNulBytesAreRefused(t *testing.T) {
	c := testClient(t)
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		var e *Error
		if !errors.As(err, &e) || e.Kind != ErrInvalidArgument || !strings.Contains(e.Message, what+" holds a NUL byte") {
			t.Errorf("%s: got %v", what, err)
		}
	}
	valid := `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	_, err := c.ChatJSON(ctx, []byte(valid+"\x00garbage"))
	check("request", err)
	_, err = c.StreamJSON(ctx, []byte(valid+"\x00"))
	check("request", err)
	_, err = NewClientJSON("{\"max_retries\":1}\x00{bad")
	check("config", err)
	_, err = NewClientFromFile("/tmp/x.json\x00.toml")
	check("path", err)
	_, err = c.Call(ctx, "models\x00junk", json.RawMessage(`{"provider":"openai"}`))
	check("endpoint", err)
	_, err = c.CallStream(ctx, "chat\x00", json.RawMessage(valid))
	check("endpoint", err)
	_, err = c.PreviewCall("models\x00", nil)
	check("endpoint", err)
	check("name", UnregisterProvider("x\x00y"))
	// A NUL inside a JSON string is escaped by the marshaller: that passes.
	r, err := c.Chat(ctx, hello("a\x00b"))
	if err != nil || !strings.Contains(r.Text(), "a\x00b") {
		t.Errorf("escaped NUL: %v %q", err, r.Text())
	}
}

// A tool loop with Anthropic's extended thinking through the typed models: the
// answer's message, sent back with ToMessage, carries its thinking blocks (the
// upstream, as Anthropic, refuses a tool result after thinking without them),
// streamed or not.
func TestToolLoopWithThinkingThroughTypedModels(t *testing.T) {
	c, err := NewClientJSON(fmt.Sprintf(`{"max_retries":0,"providers":{"anthropic":{"base_url":%q,"api_key":"sk-ant-test-123456"}}}`,
		strings.TrimSuffix(upstreamBaseURL, "/v1")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, streamed := range []bool{false, true} {
		req := &ChatRequest{Model: "anthropic/claude-sonnet-4-5", ReasoningEffort: "low",
			Tools: []Tool{{Type: "function", Function: FunctionDef{Name: "get_weather",
				Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}},
			Messages: []Message{UserMessage("weather in Paris?")}}
		var resp *ChatResponse
		if streamed {
			s, err := c.Stream(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for s.Next() {
			}
			if s.Err() != nil {
				t.Fatal(s.Err())
			}
			resp, err = s.Final()
			s.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else if resp, err = c.Chat(ctx, req); err != nil {
			t.Fatal(err)
		}
		m := resp.Choices[0].Message
		if len(m.ToolCalls) == 0 || len(m.ThinkingBlocks) < 3 || m.ReasoningContent == nil || *m.ReasoningContent == "" {
			t.Fatalf("streamed %v: first turn: %d tool calls, thinking %s, reasoning %v", streamed, len(m.ToolCalls), m.ThinkingBlocks, m.ReasoningContent)
		}
		req.Messages = append(req.Messages, m.ToMessage(), ToolMessage(m.ToolCalls[0].ID, `{"temp":21}`))
		if _, err := c.Chat(ctx, req); err != nil {
			t.Errorf("streamed %v: second turn: %v", streamed, err)
		}
		// Without the blocks the upstream refuses, as Anthropic does: the test can fail.
		req.Messages[1].ThinkingBlocks = nil
		if _, err := c.Chat(ctx, req); !errors.Is(err, ErrBadRequest) {
			t.Errorf("streamed %v: without thinking blocks: %v", streamed, err)
		}
	}
}
