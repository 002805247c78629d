package literllm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The decoder of decode.go against encoding/json: the same structs and the
// same errors for every input.

// sameAsJSON decodes in as a ChatResponse and as a ChatChunk with both
// decoders and reports any difference. It gives whether the fast path
// decoded each (rather than falling back to encoding/json).
func sameAsJSON(t testing.TB, name string, in []byte) (fastResp, fastChunk bool) {
	t.Helper()
	want := ChatResponse{Raw: in}
	wantErr := json.Unmarshal(in, &want)
	got := ChatResponse{Raw: in}
	gotErr := decodeResponse(in, string(in), &got)
	checkSame(t, name+" (response)", wantErr, gotErr, &want, &got)
	fastResp = fastDecode(string(in), &ChatResponse{}, nil)

	wantC := ChatChunk{Raw: in}
	wantCErr := json.Unmarshal(in, &wantC)
	gotC := ChatChunk{ID: "stale", Choices: []ChunkChoice{{Index: 9}}} // decodeChunk resets it
	gotCErr := decodeChunk(string(in), &gotC)
	checkSame(t, name+" (chunk)", wantCErr, gotCErr, &wantC, &gotC)
	fastChunk = fastDecode(string(in), nil, &ChatChunk{})

	if (fastResp && wantErr != nil) || (fastChunk && wantCErr != nil) {
		t.Errorf("%s: the fast path accepted what encoding/json rejects: %q", name, in)
	}
	return fastResp, fastChunk
}

func checkSame(t testing.TB, name string, wantErr, gotErr error, want, got any) {
	t.Helper()
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Errorf("%s: error %v, encoding/json: %v", name, gotErr, wantErr)
	}
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		t.Errorf("%s:\n got  %s\n want %s", name, g, w)
	}
}

// fixturesDir is the recorded provider traffic (/work/shared/fixtures
// beside the checkout), "" when absent.
func fixturesDir() string {
	if d := os.Getenv("LITERLLM_FIXTURES_DIR"); d != "" {
		return d
	}
	d := filepath.Join("..", "..", "..", "shared", "fixtures")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// fixtureInputs gives every JSON text in the fixtures: each line of the SSE
// recordings and chunk files (the "data: " prefix removed), each JSON file,
// and every object and array inside them, re-encoded.
func fixtureInputs(t testing.TB, dir string) map[string][]byte {
	out := map[string][]byte{}
	add := func(name string, b []byte) {
		b = bytes.TrimSpace(b)
		if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
			out[name] = append([]byte(nil), b...)
		}
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(path, ".bin") && !strings.HasSuffix(path, ".txt") && !strings.HasSuffix(path, ".json") {
			return nil
		}
		add(rel, data)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for n := 1; sc.Scan(); n++ {
			line := bytes.TrimPrefix(sc.Bytes(), []byte("data:"))
			add(fmt.Sprintf("%s:%d", rel, n), line)
		}
		var v any
		if json.Unmarshal(data, &v) == nil {
			walkJSON(v, func(p string, x any) {
				if b, err := json.Marshal(x); err == nil {
					add(rel+p, b)
				}
			}, "")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func walkJSON(v any, fn func(string, any), path string) {
	switch x := v.(type) {
	case map[string]any:
		fn(path, x)
		for k, e := range x {
			walkJSON(e, fn, path+"."+k)
		}
	case []any:
		fn(path, x)
		for i, e := range x {
			walkJSON(e, fn, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

func TestDecodeFixtures(t *testing.T) {
	dir := fixturesDir()
	if dir == "" {
		t.Skip("SKIPPED: no recorded fixtures (set LITERLLM_FIXTURES_DIR to /work/shared/fixtures or the like)")
	}
	inputs := fixtureInputs(t, dir)
	fast, openai, openaiFast := 0, 0, 0
	for name, in := range inputs {
		fr, fc := sameAsJSON(t, name, in)
		if fr || fc {
			fast++
		}
		if strings.HasPrefix(name, "openai") && bytes.Contains(in, []byte(`"chat.completion`)) {
			openai++
			if fr && fc {
				openaiFast++
			}
		}
	}
	t.Logf("%d inputs, %d decoded by the fast path; OpenAI: %d of %d", len(inputs), fast, openaiFast, openai)
	if openai == 0 || openaiFast != openai {
		t.Errorf("OpenAI recordings: only %d of %d decoded without falling back", openaiFast, openai)
	}
}

// upstreamResponse is what the local upstream answers (through the library).
const upstreamResponse = `{"id":"chatcmpl-upstream-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the local upstream. You said: bench","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":8,"total_tokens":9,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"provider":"openai","stats":{"bytes_sent":295,"bytes_received":589,"latency_ms":1.757068,"http_status":200,"retries":0}}`

const upstreamChunk = `{"id":"chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62","object":"chat.completion.chunk","created":1727346182,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_143bb8492c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_4XzlGBLtUe9dy3GVNV4jhq7h","type":"function","function":{"name":"get_weather","arguments":"{\"ci"}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`

// decodeEdgeCases are hand-written inputs for both shapes.
var decodeEdgeCases = []string{
	upstreamResponse,
	upstreamChunk,
	// empty, nulls everywhere
	`{}`, ` { } `, `null`, ` null `, `{"id":null,"object":null,"created":null,"model":null,"system_fingerprint":null,"choices":null,"usage":null,"provider":null,"stats":null}`,
	`{"choices":[null,{"index":null,"message":null,"finish_reason":null,"logprobs":null,"delta":null}]}`,
	`{"choices":[{"message":{"role":null,"content":null,"refusal":null,"tool_calls":null}}]}`,
	`{"choices":[{"message":{"tool_calls":[null,{"id":null,"type":null,"function":null}]}}]}`,
	`{"choices":[{"message":{"tool_calls":[{"function":{"name":null,"arguments":null}}]}}]}`,
	`{"choices":[{"delta":{"role":null,"content":null,"refusal":null,"tool_calls":[{"index":null,"function":{"arguments":null}}]},"finish_reason":null}]}`,
	`{"usage":{"prompt_tokens":null,"prompt_tokens_details":null},"stats":{"bytes_sent":null,"latency_ms":null,"http_status":null}}`,
	`{"usage":{"prompt_tokens_details":{"cached_tokens":null}}}`,
	`{"choices":[]}`, `{"choices":[ ]}`, `{"choices":[{}]}`, `{"choices":[{},{},{},{},{},{},{}]}`,
	`{"choices":[{"message":{"tool_calls":[]}, "delta":{"tool_calls":[]}}]}`,
	// reasoning, thinking blocks and a tool call's extra_content (raw)
	`{"choices":[{"message":{"role":"assistant","content":null,"reasoning_content":"think","thinking_blocks":[{"type":"thinking","thinking":"t","signature":"s"}],"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"},"extra_content":{"google":{"thought_signature":"sig"}}}]}}]}`,
	`{"choices":[{"message":{"reasoning_content":null,"thinking_blocks":null,"tool_calls":[{"extra_content":null}]}}]}`,
	`{"choices":[{"message":{"reasoning_content":1}}]}`, `{"choices":[{"message":{"thinking_blocks":[1,}]}}]}`,
	`{"choices":[{"message":{"thinking_blocks":[{"a":1}]}}],"choices":[{"message":{"thinking_blocks":[]}}]}`,
	`{"choices":[{"delta":{"reasoning_content":"r","thinking_blocks":[{"type":"redacted_thinking","data":"d"}]}}]}`,
	`{"choices":[{"delta":{"reasoning_content":null,"thinking_blocks":null}}]}`, `{"choices":[{"delta":{"reasoning_content":[]}}]}`,
	// logprobs kept raw
	`{"choices":[{"logprobs":{"content":[{"token":"a","logprob":-0.1,"bytes":[97],"top_logprobs":[]}]}}]}`,
	`{"choices":[{"logprobs": [1, 2 ,3] }]}`, `{"choices":[{"logprobs":"x\u0041"}]}`, `{"choices":[{"logprobs":true}]}`,
	`{"choices":[{"logprobs":-1.5e3}]}`, `{"choices":[{"logprobs":{ "a" : [ { } , [ ] , null ] } }]}`,
	// escapes, surrogates, invalid UTF-8
	`{"id":"a\"b\\c\/d\be\ff\ng\rh\ti"}`,
	`{"id":"\u0041\u00e9\u20ac\uD83D\uDE00\ud83d\ude00"}`,
	`{"id":"\ud800"}`, `{"id":"\udc00"}`, `{"id":"\ud800\u0041"}`, `{"id":"\ud800\ud800"}`, `{"id":"\ud800x"}`, `{"id":"\ud800\\"}`,
	`{"id":"\uDBFF\uDFFF\uD800\uDC00"}`, `{"id":"\u0000"}`, `{"id":"\uFFFD\uFFFE\uFFFF"}`,
	"{\"id\":\"\xff\xfe\"}", "{\"id\":\"a\xc3\"}", "{\"id\":\"\xed\xa0\x80\"}", "{\"id\":\"\xef\xbf\xbd\"}", "{\"id\":\"\xf4\x90\x80\x80\"}",
	"{\"id\":\"é😀\"}", "{\"id\":\"\xc0\xaf\\n\"}", "{\"id\":\"\x7f\"}",
	`{"id":"\x"}`, `{"id":"\u12"}`, `{"id":"\u12G4"}`, "{\"id\":\"a\nb\"}", "{\"id\":\"a\tb\"}", `{"id":"\'"}`,
	`{"id":"abc`, `{"id":"abc\`, `{"id":"abc\u`, `{"id":"\uD83D\uDE0`,
	// keys: escaped, case, unicode folding, unknown
	`{"\u0069d":"x","mod\u0065l":"m"}`, `{"ID":"x"}`, `{"Id":"x","id":"y"}`, `{"Model":"m"}`, `{"CHOICES":[{}]}`,
	`{"usage":{"total_toKens":3}}`, "{\"usage\":{\"total_to\u212aens\":3}}", "{\"provider\xff\":\"x\"}",
	`{"Raw":"x"}`, `{"-":"x"}`, `{"raw":"x"}`, `{"":1}`, `{"x\"y":1}`,
	`{"unknown":{"a":[1,{"b":null},[true,false,"s"]],"c":{}},"id":"after"}`,
	`{"unknown":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]],"id":"x"}`,
	`{"x_groq":{"id":"req","usage":{"queue_time":0.1}},"choices":[{"index":0,"delta":{"content":"x"},"extra":[{}]}]}`,
	`{"unknown":{"a":1,}}`, `{"unknown":[1,]}`, `{"unknown":[1 2]}`, `{"unknown":{"a" 1}}`, `{"unknown":{1:2}}`, `{"unknown":{"a":1]}`, `{"unknown":[1}`,
	`{"unknown":tru}`, `{"unknown":nul}`, `{"unknown":True}`, `{"unknown":"\q"}`,
	// duplicate keys: last wins, merging into structs, pointers and slice elements
	`{"id":"a","id":"b"}`, `{"id":"a","id":null}`, `{"created":1,"created":2}`,
	`{"usage":{"prompt_tokens":1},"usage":{"total_tokens":2}}`, `{"usage":{"prompt_tokens":1},"usage":null}`, `{"usage":null,"usage":{}}`,
	`{"usage":{"prompt_tokens_details":{"cached_tokens":1}},"usage":{"prompt_tokens_details":{}}}`,
	`{"choices":[{"index":1,"message":{"role":"r"}},{"index":2}],"choices":[{"finish_reason":"stop","message":{"content":"c"}}]}`,
	`{"choices":[{"index":1},{"index":2},{"index":3}],"choices":[{"index":4}],"choices":[{},{}]}`,
	`{"choices":[{"index":1},{"index":2},{"index":3},{"index":4},{"index":5}],"choices":[],"choices":[{}]}`,
	`{"choices":[{"index":1}],"choices":null,"choices":[{}]}`,
	`{"choices":[{"message":{"content":"a","refusal":"r"},"delta":{"content":"a"},"finish_reason":"s"}],"choices":[{"message":{"content":null},"delta":{"content":null},"finish_reason":null}]}`,
	`{"choices":[{"message":{"tool_calls":[{"id":"1","function":{"name":"f","arguments":"{}"}}]},"delta":{"tool_calls":[{"index":3,"function":{"name":"f"}}]}}],"choices":[{"message":{"tool_calls":[{"function":{"arguments":"x"}}]},"delta":{"tool_calls":[{"id":"i"}]}}]}`,
	`{"choices":[{"logprobs":{"a":1}}],"choices":[{"logprobs":null}]}`,
	`{"stats":{"retries":1},"stats":{"http_status":2}}`,
	// numbers
	`{"created":1e2}`, `{"created":1.0}`, `{"created":-0}`, `{"created":-0.0}`, `{"created":0}`, `{"created":-1}`, `{"created":1E2}`,
	`{"created":9223372036854775807}`, `{"created":9223372036854775808}`, `{"created":-9223372036854775808}`, `{"created":-9223372036854775809}`,
	`{"created":999999999999999999}`, `{"created":-999999999999999999}`, `{"created":1000000000000000000}`, `{"created":123456789012345678901234567890}`,
	`{"created":01}`, `{"created":-}`, `{"created":+1}`, `{"created":.5}`, `{"created":1.}`, `{"created":1e}`, `{"created":1e+}`, `{"created":--1}`, `{"created":0x10}`,
	`{"created":"1"}`, `{"created":true}`, `{"created":[1]}`, `{"created":{}}`,
	`{"choices":[{"index":2147483648}]}`, `{"choices":[{"index":-2147483649}]}`, `{"choices":[{"index":1e0}]}`,
	`{"stats":{"bytes_sent":18446744073709551615}}`, `{"stats":{"bytes_sent":18446744073709551616}}`, `{"stats":{"bytes_sent":-0}}`,
	`{"stats":{"bytes_sent":-1}}`, `{"stats":{"bytes_sent":1.5}}`, `{"stats":{"bytes_sent":9999999999999999999}}`, `{"stats":{"bytes_sent":10000000000000000000}}`,
	`{"stats":{"latency_ms":1e308}}`, `{"stats":{"latency_ms":1e309}}`, `{"stats":{"latency_ms":-1e400}}`, `{"stats":{"latency_ms":1e-400}}`,
	`{"stats":{"latency_ms":-0}}`, `{"stats":{"latency_ms":0.1}}`, `{"stats":{"latency_ms":12345678901234567890123}}`, `{"stats":{"latency_ms":4.9e-324}}`,
	`{"stats":{"latency_ms":"1"}}`, `{"stats":{"http_status":200.0}}`, `{"stats":{"retries":-3}}`,
	// wrong types
	`{"id":1}`, `{"id":true}`, `{"id":["a"]}`, `{"id":{}}`, `{"choices":{}}`, `{"choices":"x"}`, `{"choices":[1]}`, `{"choices":[[]]}`,
	`{"choices":[{"message":"x"}]}`, `{"choices":[{"message":[]}]}`, `{"choices":[{"message":{"content":1}}]}`, `{"choices":[{"message":{"content":false}}]}`,
	`{"choices":[{"delta":{"content":1}}]}`, `{"choices":[{"finish_reason":1}]}`, `{"choices":[{"message":{"tool_calls":{}}}]}`,
	`{"usage":5}`, `{"usage":[]}`, `{"usage":"x"}`, `{"stats":true}`, `{"usage":{"prompt_tokens_details":1}}`,
	`{"id":1,"model":"m","choices":[{"index":"0","message":{"content":"kept"}}]}`,
	// not an object, malformed, trailing data
	``, ` `, `[]`, `[{}]`, `"x"`, `1`, `true`, `{`, `}`, `{"id"}`, `{"id":}`, `{"id":"a",}`, `{,}`, `{"id":"a"}x`, `{"id":"a"} {}`,
	`{"id":"a"}   `, "\t\r\n{\"id\":\"a\"}\n", "\ufeff{}", `{"id" : "a" , "model" : "b" }`, `{"id":"a"`, `{"id":"a"]`,
}

func TestDecodeEdgeCases(t *testing.T) {
	for i, s := range decodeEdgeCases {
		sameAsJSON(t, fmt.Sprintf("case %d %q", i, s), []byte(s))
	}
	// The fast path must take the common inputs itself.
	for _, s := range []string{upstreamResponse, upstreamChunk, `{}`, `{"id":"\ud83d\ude00\n"}`, `{"choices":[{"index":1}],"choices":[{}]}`} {
		if !fastDecode(s, &ChatResponse{}, nil) || !fastDecode(s, nil, &ChatChunk{}) {
			t.Errorf("fell back on %s", s)
		}
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	for _, n := range []int{100, 1023, 1024, 1025, 5000, 10001} {
		in := `{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"id":"a"}`
		sameAsJSON(t, fmt.Sprintf("depth %d", n), []byte(in))
		in = `{"x":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}`
		sameAsJSON(t, fmt.Sprintf("object depth %d", n), []byte(in))
	}
}

func TestDecodeResponseKeepsRaw(t *testing.T) {
	raw := []byte(upstreamResponse)
	r := &ChatResponse{Raw: raw}
	if err := decodeResponse(raw, string(raw), r); err != nil {
		t.Fatal(err)
	}
	if string(r.Raw) != upstreamResponse || r.Text() != "Hello from the local upstream. You said: bench" ||
		r.Usage.TotalTokens != 9 || r.Stats.LatencyMs != 1.757068 || string(r.Choices[0].Logprobs) != "null" {
		t.Errorf("%+v", r)
	}
	var ch ChatChunk
	if err := decodeChunk(upstreamChunk, &ch); err != nil {
		t.Fatal(err)
	}
	if string(ch.Raw) != upstreamChunk || ch.Choices[0].Delta.ToolCalls[0].Function.Arguments != `{"ci` {
		t.Errorf("%+v", ch)
	}
}

// FuzzDecode checks the decoder against encoding/json on any input. Only the
// seeds run in a plain `go test`; to fuzz:
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 3m
func FuzzDecode(f *testing.F) {
	for _, s := range decodeEdgeCases {
		f.Add([]byte(s))
	}
	if dir := fixturesDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "openai", "sse", "*.bin"))
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			for _, line := range bytes.Split(data, []byte("\n")) {
				if line = bytes.TrimPrefix(line, []byte("data: ")); len(line) > 0 && line[0] == '{' {
					f.Add(line)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sameAsJSON(t, "input", in)
		// The input as a value of each kind of field, so that valid values
		// of every type reach every field decoder.
		for _, tmpl := range fuzzTemplates {
			sameAsJSON(t, tmpl, []byte(strings.Replace(tmpl, "X", string(in), 1)))
		}
	})
}

var fuzzTemplates = []string{
	`{"id":X}`, `{"created":X}`, `{"choices":X}`, `{"choices":[{"index":X}]}`,
	`{"choices":[{"message":{"content":X,"refusal":null}}]}`, `{"choices":[{"logprobs":X}]}`,
	`{"choices":[{"message":{"tool_calls":X},"delta":{"tool_calls":X}}]}`, `{"choices":[{"message":X,"delta":X}]}`,
	`{"usage":X}`, `{"usage":{"prompt_tokens_details":X}}`, `{"stats":{"latency_ms":X}}`, `{"stats":{"bytes_sent":X}}`,
	`{"stats":X}`, `{"x":X,"id":"after"}`, `{X:1}`,
}
