package literllm

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// llm_call through Client.Call and its conveniences, against the upstream.

func TestCallEmbedGivesOneVectorPerInput(t *testing.T) {
	c := testClient(t)
	for _, ctx := range []context.Context{context.Background(), cancellableContext(t)} {
		vs, err := c.Embed(ctx, "openai/text-embedding-3-small", "one", "two", "three")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 3 || len(vs[0]) != 1536 {
			t.Fatalf("got %d vectors of %d", len(vs), len(vs[0]))
		}
		// The vectors are those of the JSON answer, in input order.
		r, err := c.Call(ctx, "embeddings", map[string]any{"model": "openai/text-embedding-3-small", "input": []string{"one", "two", "three"}, "dimensions": 4})
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			Data []struct {
				Index     int       `json:"index"`
				Embedding []float32 `json:"embedding"`
			} `json:"data"`
		}
		if err := r.Decode(&answer); err != nil {
			t.Fatal(err)
		}
		flat, n, dims := r.EmbeddingsFlat()
		if n != 3 || dims != 4 || len(flat) != 12 {
			t.Fatalf("flat %d floats, %d x %d", len(flat), n, dims)
		}
		for i, d := range answer.Data {
			for j, f := range d.Embedding {
				if r.Embeddings()[d.Index][j] != f {
					t.Fatalf("vector %d[%d]: %v, JSON %v", i, j, r.Embeddings()[d.Index][j], f)
				}
			}
		}
	}
}

func cancellableContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func TestCallModels(t *testing.T) {
	ms, err := testClient(t).Models(context.Background(), "openai")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range ms {
		ids[m.ID] = true
	}
	if !ids["gpt-4o-mini"] || !ids["gpt-4o"] {
		t.Fatalf("models %+v", ms)
	}
}

func TestCallSpeechThenTranscribeUploadsBytes(t *testing.T) {
	c := testClient(t)
	audio, ct, err := c.Speech(context.Background(), &SpeechRequest{Model: "openai/tts-1", Input: "round trip words", Voice: "alloy", ResponseFormat: "wav"})
	if err != nil {
		t.Fatal(err)
	}
	if ct != "audio/wav" || !strings.HasPrefix(string(audio), "RIFF") {
		t.Fatalf("content type %q, %d bytes", ct, len(audio))
	}
	// The upstream's WAV carries its text: transcribing it gives it back.
	keep := append([]byte(nil), audio...)
	for _, ctx := range []context.Context{context.Background(), cancellableContext(t)} {
		tr, err := c.Transcribe(ctx, "openai/whisper-1", audio, "speech.wav", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Text != "round trip words" {
			t.Fatalf("text %q (%s)", tr.Text, tr.Raw)
		}
	}
	if string(keep) != string(audio) {
		t.Fatal("the upload buffer changed")
	}
	path := filepath.Join(t.TempDir(), "speech.wav")
	if err := os.WriteFile(path, audio, 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := c.TranscribeFile(context.Background(), "openai/whisper-1", path, map[string]any{"language": "en"})
	if err != nil || tr.Text != "round trip words" {
		t.Fatalf("from a path: %+v, %v", tr, err)
	}
}

func TestPreviewCallShowsTheUploadAsAPart(t *testing.T) {
	c := testClient(t)
	pv, err := c.PreviewCall("audio.transcriptions", map[string]any{"model": "openai/whisper-1", "file": map[string]any{"data": 0, "filename": "a.wav"}}, []byte("RIFF0000WAVE"))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Parts []struct {
			Name     string `json:"name"`
			Filename string `json:"filename"`
			Bytes    int    `json:"bytes"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(pv, &p); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, part := range p.Parts {
		found = found || (part.Name == "file" && part.Filename == "a.wav" && part.Bytes == 12)
	}
	if !found {
		t.Fatalf("no file part: %s", pv)
	}
}

func TestCallErrorsAreTyped(t *testing.T) {
	c := testClient(t)
	_, err := c.Call(context.Background(), "no.such.endpoint", nil)
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown endpoint: %v", err)
	}
	// An upload index with no buffer, and a speech request with no input.
	_, err = c.Call(context.Background(), "audio.transcriptions", map[string]any{"model": "openai/whisper-1", "file": map[string]any{"data": 3, "filename": "a.wav"}})
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("missing upload: %v", err)
	}
	_, _, err = c.Speech(context.Background(), &SpeechRequest{Model: "openai/tts-1", Voice: "alloy"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("speech without input: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, "models", nil); !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}
