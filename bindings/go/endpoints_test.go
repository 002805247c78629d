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

// The endpoint conveniences and CallStream, against the upstream.

func TestEndpointConveniences(t *testing.T) {
	c := testClient(t)
	ctx := context.Background()
	decode := func(r *Response, err error) map[string]any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := r.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	img := decode(c.GenerateImage(ctx, "openai/dall-e-2", "a red square", map[string]any{"n": 1, "size": "256x256"}))
	if d, _ := img["data"].([]any); len(d) != 1 {
		t.Fatalf("images: %v", img)
	}
	mod := decode(c.Moderate(ctx, "openai/omni-moderation-latest", []string{"a", "b"}, nil))
	if r, _ := mod["results"].([]any); len(r) != 2 {
		t.Fatalf("moderations: %v", mod)
	}
	// Files: from bytes and from a path, retrieved, listed, read, deleted.
	f := decode(c.CreateFile(ctx, "openai", "assistants", "notes.txt", []byte("hello file"), nil))
	id, _ := f["id"].(string)
	path := filepath.Join(t.TempDir(), "more.txt")
	if err := os.WriteFile(path, []byte("from a path"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := decode(c.CreateFileFromPath(ctx, "openai", "assistants", path, nil))
	if got := decode(c.RetrieveFile(ctx, "openai", id)); got["id"] != id {
		t.Fatalf("files.retrieve: %v", got)
	}
	if list := decode(c.ListFiles(ctx, "openai", nil)); !strings.Contains(jsonText(t, list), id) {
		t.Fatalf("files.list lacks %s: %v", id, list)
	}
	content, _, err := c.FileContent(ctx, "openai", g["id"].(string))
	if err != nil || string(content) != "from a path" {
		t.Fatalf("files.content: %q %v", content, err)
	}
	if del := decode(c.DeleteFile(ctx, "openai", id)); del["deleted"] != true {
		t.Fatalf("files.delete: %v", del)
	}
	// Batches: listed; cancelling a finished one is the upstream's error, not a panic.
	if list := decode(c.ListBatches(ctx, "openai", map[string]any{"limit": 5})); list["object"] != "list" {
		t.Fatalf("batches.list: %v", list)
	}
	// Responses: created, retrieved, deleted.
	r := decode(c.CreateResponse(ctx, map[string]any{"model": "openai/gpt-4o-mini", "input": "keep me"}))
	rid, _ := r["id"].(string)
	if got := decode(c.RetrieveResponse(ctx, "openai", rid)); got["id"] != rid {
		t.Fatalf("responses.retrieve: %v", got)
	}
	decode(c.DeleteResponse(ctx, "openai", rid))
	if _, err := c.RetrieveResponse(ctx, "openai", rid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestCallStreamResponses(t *testing.T) {
	c := testClient(t)
	s, err := c.StreamResponse(cancellableContext(t), map[string]any{"model": "openai/gpt-4o-mini", "input": "one two three"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for s.Next() {
		if len(s.ChunkJSON()) == 0 || s.Chunk().Raw == nil {
			t.Fatal("an empty event")
		}
		n++
	}
	if err := s.Err(); err != nil || n == 0 {
		t.Fatalf("%d events, %v", n, err)
	}
	final, err := s.FinalResponse()
	if err != nil || !strings.Contains(string(final.JSON), "one two three") {
		t.Fatalf("final: %s %v", final.JSON, err)
	}
	// Cancelled mid-stream from another goroutine.
	s2, err := c.CallStream(context.Background(), "responses.create", map[string]any{"model": "openai/gpt-4o-mini", "input": "a b c d e f"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.Next() {
		t.Fatal(s2.Err())
	}
	done := make(chan struct{})
	go func() { s2.Cancel(); close(done) }()
	<-done
	for s2.Next() {
	}
	if s2.Err() != nil && !errors.Is(s2.Err(), ErrCancelled) {
		t.Fatalf("after cancel: %v", s2.Err())
	}
	// A stream of an endpoint that does not stream fails before anything is sent.
	if _, err := c.CallStream(context.Background(), "embeddings", map[string]any{"model": "openai/text-embedding-3-small", "input": "x"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("embeddings stream: %v", err)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
