package literllm

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written decoder for the answers of every call (ChatResponse) and
// every streamed chunk (ChatChunk). It fills the structs exactly as
// encoding/json.Unmarshal would for the input it accepts: unknown keys
// skipped, null as encoding/json treats it per field type, duplicate keys
// merged (last wins, slices and pointers decoded into what is there), strings
// unescaped the same way (invalid UTF-8 and lone surrogates become U+FFFD),
// numbers parsed by strconv as encoding/json does. Whenever it meets anything
// else (a type mismatch, a number out of range, a key that would match a field
// only case-insensitively, malformed input, very deep nesting) it gives up and
// the caller runs encoding/json on the same bytes, so that the result and the
// error are always encoding/json's.
//
// Strings without escapes are substrings of the input string: one copy of
// the input backs them all.

// decodeResponse decodes raw (whose text is also s) into r, which must be
// zero except for Raw.
func decodeResponse(raw []byte, s string, r *ChatResponse) error {
	if fastDecode(s, r, nil) {
		return nil
	}
	*r = ChatResponse{Raw: r.Raw}
	return json.Unmarshal(raw, r)
}

// decodeChunk decodes one streamed chunk's JSON into ch (which it resets)
// and keeps the JSON in ch.Raw.
func decodeChunk(s string, ch *ChatChunk) error {
	*ch = ChatChunk{Raw: json.RawMessage(s)}
	if fastDecode(s, nil, ch) {
		return nil
	}
	*ch = ChatChunk{Raw: ch.Raw}
	return json.Unmarshal(ch.Raw, ch)
}

// errFallback is the panic value with which the decoder gives up.
type fallbackSignal struct{}

var errFallback = &fallbackSignal{}

// fastDecode decodes s into r or ch (the non-nil one); false: use encoding/json.
func fastDecode(s string, r *ChatResponse, ch *ChatChunk) (ok bool) {
	defer func() {
		if e := recover(); e != nil {
			if e != errFallback {
				panic(e) // a bug: let it show
			}
			ok = false
		}
	}()
	d := decoder{s: s}
	d.ws()
	if d.peek() != '{' {
		return false // null, other types, empty input: encoding/json's business
	}
	if r != nil {
		d.response(r)
	} else {
		d.chunk(ch)
	}
	d.ws()
	return d.i == len(d.s)
}

type decoder struct {
	s string
	i int
}

func (d *decoder) fail() { panic(errFallback) }

// peek is the next byte, 0 at the end (never valid where a byte is expected).
func (d *decoder) peek() byte {
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// open consumes whitespace and c.
func (d *decoder) open(c byte) {
	d.ws()
	if d.peek() != c {
		d.fail()
	}
	d.i++
}

// next is true when the container opened before has an n-th member (from 0),
// having consumed the comma before it; false when it has consumed end.
func (d *decoder) next(n int, end byte) bool {
	d.ws()
	c := d.peek()
	if c == end {
		d.i++
		return false
	}
	if n > 0 {
		if c != ',' {
			d.fail()
		}
		d.i++
	}
	return true
}

// key reads an object key and its colon. A key that matches no field is
// checked by unknown before its value is skipped.
func (d *decoder) key() string {
	d.ws()
	if d.peek() != '"' {
		d.fail()
	}
	k := d.str()
	d.ws()
	if d.peek() != ':' {
		d.fail()
	}
	d.i++
	return k
}

// unknown skips the value of key k, which matched no field exactly. A key
// with upper case or non-ASCII letters might match one case-insensitively
// (encoding/json folds, K and ſ included): encoding/json decides those.
func (d *decoder) unknown(k string) {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			d.fail()
		}
	}
	d.skip()
}

// null consumes a null literal if one comes next.
func (d *decoder) null() bool {
	d.ws()
	if d.peek() != 'n' {
		return false
	}
	d.lit("null")
	return true
}

func (d *decoder) lit(l string) {
	if len(d.s)-d.i < len(l) || d.s[d.i:d.i+len(l)] != l {
		d.fail()
	}
	d.i += len(l)
}

// str reads the string at d.i (its opening quote) and unescapes it.
func (d *decoder) str() string {
	start := d.i + 1
	i := start
	for i < len(d.s) {
		c := d.s[i]
		if c == '"' {
			d.i = i + 1
			return d.s[start:i]
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	esc := false
	for {
		if i >= len(d.s) {
			d.fail()
		}
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			q := d.s[start:i]
			if !esc && utf8.ValidString(q) {
				return q
			}
			return unquote(q)
		case c < ' ':
			d.fail()
		case c == '\\':
			esc = true
			i = d.escape(i)
		default:
			i++
		}
	}
}

// escape checks the escape at i (its backslash) and gives the index after it.
func (d *decoder) escape(i int) int {
	if i+1 >= len(d.s) {
		d.fail()
	}
	switch d.s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if getu4(d.s[i:]) < 0 {
			d.fail()
		}
		return i + 6
	}
	d.fail()
	return 0
}

// unquote is encoding/json's unquote of a checked string body that has an
// escape or a byte that is not ASCII.
func unquote(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				rr := getu4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						b.WriteRune(dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				b.WriteRune(rr)
				continue
			default: // '"', '\\', '/'
				b.WriteByte(e)
			}
			r += 2
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			r++
		default:
			rr, size := utf8.DecodeRuneInString(s[r:])
			r += size
			b.WriteRune(rr)
		}
	}
	return b.String()
}

// getu4 decodes \uXXXX at the start of s, -1 if there is none.
func getu4(s string) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for i := 2; i < 6; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number reads a number as JSON's grammar has it and gives its text and
// whether it is an integer (no fraction, no exponent).
func (d *decoder) number() (string, bool) {
	d.ws()
	s, start, i := d.s, d.i, d.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		d.fail()
	}
	integer := true
	if i < len(s) && s[i] == '.' {
		integer = false
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.fail()
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		integer = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.fail()
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	d.i = i
	return s[start:i], integer
}

// The field decoders: each decodes the next value into what dst points at,
// as encoding/json would.

func (d *decoder) string(dst *string) {
	d.ws()
	switch d.peek() {
	case '"':
		*dst = d.str()
	case 'n':
		d.lit("null") // leaves a string as it was
	default:
		d.fail()
	}
}

func (d *decoder) stringPtr(dst **string) {
	d.ws()
	switch d.peek() {
	case '"':
		s := d.str()
		if *dst == nil {
			*dst = new(string)
		}
		**dst = s
	case 'n':
		d.lit("null")
		*dst = nil
	default:
		d.fail()
	}
}

func (d *decoder) int64(dst *int64) {
	if d.null() {
		return
	}
	*dst = d.integer(64)
}

func (d *decoder) int(dst *int) {
	if d.null() {
		return
	}
	*dst = int(d.integer(strconv.IntSize))
}

// integer reads an integer that fits bits (strconv.ParseInt's rules).
func (d *decoder) integer(bits int) int64 {
	t, integer := d.number()
	if !integer {
		d.fail() // encoding/json: a type error
	}
	digits := t
	if t[0] == '-' {
		digits = t[1:]
	}
	if len(digits) <= 9 || bits == 64 && len(digits) <= 18 { // cannot overflow
		var n int64
		for i := 0; i < len(digits); i++ {
			n = n*10 + int64(digits[i]-'0')
		}
		if len(digits) < len(t) {
			n = -n
		}
		return n
	}
	n, err := strconv.ParseInt(t, 10, bits)
	if err != nil {
		d.fail()
	}
	return n
}

func (d *decoder) uint64(dst *uint64) {
	if d.null() {
		return
	}
	t, integer := d.number()
	if !integer || t[0] == '-' {
		d.fail() // encoding/json: a type error (even for -0)
	}
	if len(t) <= 19 {
		var n uint64
		for i := 0; i < len(t); i++ {
			n = n*10 + uint64(t[i]-'0')
		}
		*dst = n
		return
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		d.fail()
	}
	*dst = n
}

func (d *decoder) float64(dst *float64) {
	if d.null() {
		return
	}
	t, _ := d.number()
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		d.fail()
	}
	*dst = f
}

// raw is a json.RawMessage: the value's bytes as they are, null included.
func (d *decoder) raw(dst *json.RawMessage) {
	d.ws()
	start := d.i
	d.skip()
	*dst = append((*dst)[:0], d.s[start:d.i]...)
}

// Arrays into slices, as encoding/json does: null sets nil, [] an empty
// slice, and the elements are decoded into those already there (a duplicate
// key merges into them), the slice cut to the array's length. The capacity
// differs from encoding/json's, which nothing can observe: a slice grows only
// when it is full, keeping every element ever decoded into.
//
//	if d.null() { *dst = nil } else { d.open('['); i := 0; for ; d.next(i, ']'); i++ { decode(elem(dst, i)) }; endSlice(dst, i) }

// elem gives the i-th element of *dst for the i-th element of the array.
func elem[T any](dst *[]T, i int) *T {
	s := *dst
	if i >= len(s) {
		if i < cap(s) {
			s = s[:i+1]
		} else {
			var zero T
			s = append(s, zero)
		}
		*dst = s
	}
	return &s[i]
}

// endSlice ends an array of n elements.
func endSlice[T any](dst *[]T, n int) {
	if n == 0 {
		*dst = []T{}
	} else if n < len(*dst) {
		*dst = (*dst)[:n]
	}
}

// skip checks and passes over any value.
func (d *decoder) skip() {
	// One bit per open container: 1 for an object, 0 for an array.
	var stack [16]uint64
	depth := 0
	d.ws()
	for {
		// A value.
		switch c := d.peek(); {
		case c == '{' || c == '[':
			d.i++
			d.ws()
			if c == '{' && d.peek() == '}' || c == '[' && d.peek() == ']' {
				d.i++
				break
			}
			if depth == len(stack)*64 {
				d.fail() // deep: encoding/json has its own limit
			}
			if c == '{' {
				stack[depth/64] |= 1 << (depth % 64)
				d.skipKey()
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			d.ws()
			continue
		case c == '"':
			d.skipString()
		case c == 't':
			d.lit("true")
		case c == 'f':
			d.lit("false")
		case c == 'n':
			d.lit("null")
		default:
			d.number()
		}
		// After a value: close what ends here, then the next member.
		for {
			if depth == 0 {
				return
			}
			obj := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			d.ws()
			c := d.peek()
			if c == ',' {
				d.i++
				if obj {
					d.ws()
					d.skipKey()
				}
				d.ws()
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				d.i++
				depth--
				continue
			}
			d.fail()
		}
	}
}

// skipKey checks and passes over an object key and its colon.
func (d *decoder) skipKey() {
	if d.peek() != '"' {
		d.fail()
	}
	d.skipString()
	d.ws()
	if d.peek() != ':' {
		d.fail()
	}
	d.i++
}

// skipString checks and passes over the string at d.i.
func (d *decoder) skipString() {
	i := d.i + 1
	for {
		if i >= len(d.s) {
			d.fail()
		}
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return
		case c < ' ':
			d.fail()
		case c == '\\':
			i = d.escape(i)
		default:
			i++
		}
	}
}

// The models.

func (d *decoder) response(r *ChatResponse) {
	d.open('{')
	d.members(func(k string) {
		switch k {
		case "id":
			d.string(&r.ID)
		case "object":
			d.string(&r.Object)
		case "created":
			d.int64(&r.Created)
		case "model":
			d.string(&r.Model)
		case "system_fingerprint":
			d.string(&r.SystemFingerprint)
		case "choices":
			list(d, &r.Choices, d.choice)
		case "usage":
			d.usagePtr(&r.Usage)
		case "provider":
			d.string(&r.Provider)
		case "stats":
			d.statsPtr(&r.Stats)
		default:
			d.unknown(k)
		}
	})
}

// members runs field on each key of an object the decoder has opened; field
// decodes the value.
func (d *decoder) members(field func(k string)) {
	for n := 0; d.next(n, '}'); n++ {
		field(d.key())
	}
}

// fields decodes an object into a struct value through field; null leaves the
// struct as it was.
func (d *decoder) fields(field func(k string)) {
	if d.object() {
		d.members(field)
	}
}

// list decodes an array into *dst, each element through one; null makes it nil.
func list[T any](d *decoder, dst *[]T, one func(*T)) {
	if d.null() {
		*dst = nil
		return
	}
	d.open('[')
	i := 0
	for ; d.next(i, ']'); i++ {
		one(elem(dst, i))
	}
	endSlice(dst, i)
}

// object opens an object for a struct value: false for null (which leaves a
// struct as it was).
func (d *decoder) object() bool {
	if d.null() {
		return false
	}
	d.open('{')
	return true
}

func (d *decoder) choice(c *Choice) {
	d.fields(func(k string) {
		switch k {
		case "index":
			d.int(&c.Index)
		case "message":
			d.responseMessage(&c.Message)
		case "finish_reason":
			d.string(&c.FinishReason)
		case "logprobs":
			d.raw(&c.Logprobs)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) responseMessage(m *ResponseMessage) {
	d.fields(func(k string) {
		switch k {
		case "role":
			d.string(&m.Role)
		case "content":
			d.stringPtr(&m.Content)
		case "refusal":
			d.stringPtr(&m.Refusal)
		case "tool_calls":
			list(d, &m.ToolCalls, d.toolCall)
		case "reasoning_content":
			d.stringPtr(&m.ReasoningContent)
		case "thinking_blocks":
			d.raw(&m.ThinkingBlocks)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) toolCall(t *ToolCall) {
	d.fields(func(k string) {
		switch k {
		case "id":
			d.string(&t.ID)
		case "type":
			d.string(&t.Type)
		case "function":
			d.functionCall(&t.Function)
		case "extra_content":
			d.raw(&t.ExtraContent)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) functionCall(f *FunctionCall) {
	d.fields(func(k string) {
		switch k {
		case "name":
			d.string(&f.Name)
		case "arguments":
			d.string(&f.Arguments)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) usagePtr(dst **Usage) {
	if d.null() {
		*dst = nil
		return
	}
	if *dst == nil {
		*dst = new(Usage)
	}
	u := *dst
	d.open('{')
	d.members(func(k string) {
		switch k {
		case "prompt_tokens":
			d.int64(&u.PromptTokens)
		case "completion_tokens":
			d.int64(&u.CompletionTokens)
		case "total_tokens":
			d.int64(&u.TotalTokens)
		case "prompt_tokens_details":
			if d.null() {
				u.PromptTokensDetails = nil
				break
			}
			if u.PromptTokensDetails == nil {
				u.PromptTokensDetails = new(struct {
					CachedTokens int64 `json:"cached_tokens"`
				})
			}
			p := u.PromptTokensDetails
			d.open('{')
			for n := 0; d.next(n, '}'); n++ {
				if k := d.key(); k == "cached_tokens" {
					d.int64(&p.CachedTokens)
				} else {
					d.unknown(k)
				}
			}
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) statsPtr(dst **Stats) {
	if d.null() {
		*dst = nil
		return
	}
	if *dst == nil {
		*dst = new(Stats)
	}
	s := *dst
	d.open('{')
	d.members(func(k string) {
		switch k {
		case "bytes_sent":
			d.uint64(&s.BytesSent)
		case "bytes_received":
			d.uint64(&s.BytesReceived)
		case "latency_ms":
			d.float64(&s.LatencyMs)
		case "http_status":
			d.int(&s.HTTPStatus)
		case "retries":
			d.int(&s.Retries)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) chunk(c *ChatChunk) {
	d.open('{')
	d.members(func(k string) {
		switch k {
		case "id":
			d.string(&c.ID)
		case "object":
			d.string(&c.Object)
		case "created":
			d.int64(&c.Created)
		case "model":
			d.string(&c.Model)
		case "choices":
			list(d, &c.Choices, d.chunkChoice)
		case "usage":
			d.usagePtr(&c.Usage)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) chunkChoice(c *ChunkChoice) {
	d.fields(func(k string) {
		switch k {
		case "index":
			d.int(&c.Index)
		case "delta":
			d.delta(&c.Delta)
		case "finish_reason":
			d.stringPtr(&c.FinishReason)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) delta(x *Delta) {
	d.fields(func(k string) {
		switch k {
		case "role":
			d.string(&x.Role)
		case "content":
			d.string(&x.Content)
		case "refusal":
			d.string(&x.Refusal)
		case "tool_calls":
			list(d, &x.ToolCalls, d.toolCallDelta)
		case "reasoning_content":
			d.string(&x.ReasoningContent)
		case "thinking_blocks":
			d.raw(&x.ThinkingBlocks)
		default:
			d.unknown(k)
		}
	})
}

func (d *decoder) toolCallDelta(t *ToolCallDelta) {
	d.fields(func(k string) {
		switch k {
		case "index":
			d.int(&t.Index)
		case "id":
			d.string(&t.ID)
		case "type":
			d.string(&t.Type)
		case "function":
			d.functionCall(&t.Function)
		default:
			d.unknown(k)
		}
	})
}
