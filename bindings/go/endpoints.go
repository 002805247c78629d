package literllm

import (
	"context"
	"os"
	"path/filepath"
)

// Thin conveniences over Call for the endpoint families of llm_call. Each
// takes the request's main fields as arguments and any others in fields (nil
// for none); each answers with the endpoint's JSON in a *Response (Decode it
// into a type of your own, or read Response.JSON). provider is a provider's
// name ("openai"), "" for the client's default one; model is "provider/model"
// as in Chat, "" for the provider's default.

func request(fields map[string]any, kv ...any) map[string]any {
	req := make(map[string]any, len(fields)+len(kv)/2)
	for k, v := range fields {
		req[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case string:
			if v == "" {
				continue // unset: the provider's default
			}
		}
		req[k] = kv[i+1]
	}
	return req
}

// GenerateImage calls "images.generations": images for prompt ("n", "size",
// "response_format", ... in fields). The answer's "data" holds "url" or
// "b64_json" per image.
func (c *Client) GenerateImage(ctx context.Context, model, prompt string, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "images.generations", request(fields, "model", model, "prompt", prompt))
}

// Moderate calls "moderations" for input (a string, a list of strings, or
// multimodal parts): one result per input with "flagged", "categories" and
// "category_scores".
func (c *Client) Moderate(ctx context.Context, model string, input any, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "moderations", request(fields, "model", model, "input", input))
}

// Rerank calls "rerank": documents ordered by relevance to query, most
// relevant first ({"results": [{"index", "relevance_score"}]}; "top_n" in
// fields).
func (c *Client) Rerank(ctx context.Context, model, query string, documents []string, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "rerank", request(fields, "model", model, "query", query, "documents", documents))
}

// Search calls "search": web results for query ({"results": [{"title",
// "url", "snippet"}]}; "max_results" in fields).
func (c *Client) Search(ctx context.Context, provider, query string, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "search", request(fields, "provider", provider, "query", query))
}

// CreateFile uploads data as a file named filename for purpose ("batch",
// "assistants", "fine-tune", ...); the answer is the file object ("id").
func (c *Client) CreateFile(ctx context.Context, provider, purpose, filename string, data []byte, fields map[string]any) (*Response, error) {
	file := map[string]any{"data": 0, "filename": filename}
	return c.Call(ctx, "files.create", request(fields, "provider", provider, "purpose", purpose, "file", file), data)
}

// CreateFileFromPath uploads the file at path (read as it is sent).
func (c *Client) CreateFileFromPath(ctx context.Context, provider, purpose, path string, fields map[string]any) (*Response, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	file := map[string]any{"path": path, "filename": filepath.Base(path)}
	return c.Call(ctx, "files.create", request(fields, "provider", provider, "purpose", purpose, "file", file))
}

// RetrieveFile gives the file object of id.
func (c *Client) RetrieveFile(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "files.retrieve", request(nil, "provider", provider, "file_id", id))
}

// ListFiles lists the provider's files ("purpose", "limit", "after" in fields).
func (c *Client) ListFiles(ctx context.Context, provider string, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "files.list", request(fields, "provider", provider))
}

// DeleteFile deletes the file id ({"id", "deleted": true}).
func (c *Client) DeleteFile(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "files.delete", request(nil, "provider", provider, "file_id", id))
}

// FileContent gives the bytes of the file id and their Content-Type.
func (c *Client) FileContent(ctx context.Context, provider, id string) ([]byte, string, error) {
	r, err := c.Call(ctx, "files.content", request(nil, "provider", provider, "file_id", id))
	if err != nil {
		return nil, "", err
	}
	return r.Bytes(), r.ContentType(), nil
}

// CreateBatch starts a batch of the requests in the uploaded JSONL file
// inputFileID for endpoint ("/v1/chat/completions", ...); completion_window
// is "24h" unless fields says otherwise. The answer is the batch object.
func (c *Client) CreateBatch(ctx context.Context, provider, inputFileID, endpoint string, fields map[string]any) (*Response, error) {
	req := request(fields, "provider", provider, "input_file_id", inputFileID, "endpoint", endpoint)
	if _, ok := req["completion_window"]; !ok {
		req["completion_window"] = "24h"
	}
	return c.Call(ctx, "batches.create", req)
}

// RetrieveBatch gives the batch object of id ("status", "output_file_id", ...).
func (c *Client) RetrieveBatch(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "batches.retrieve", request(nil, "provider", provider, "batch_id", id))
}

// ListBatches lists the provider's batches ("limit", "after" in fields).
func (c *Client) ListBatches(ctx context.Context, provider string, fields map[string]any) (*Response, error) {
	return c.Call(ctx, "batches.list", request(fields, "provider", provider))
}

// CancelBatch cancels the batch id.
func (c *Client) CancelBatch(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "batches.cancel", request(nil, "provider", provider, "batch_id", id))
}

// CreateResponse calls "responses.create" (OpenAI's Responses API): req is
// the request as Call takes it ("model", "input", ...).
func (c *Client) CreateResponse(ctx context.Context, req any) (*Response, error) {
	return c.Call(ctx, "responses.create", req)
}

// StreamResponse streams "responses.create": CallStream's stream of typed
// events, then the final response.
func (c *Client) StreamResponse(ctx context.Context, req any) (*Stream, error) {
	return c.CallStream(ctx, "responses.create", req)
}

// RetrieveResponse gives the stored response id.
func (c *Client) RetrieveResponse(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "responses.retrieve", request(nil, "provider", provider, "response_id", id))
}

// CancelResponse cancels the background response id.
func (c *Client) CancelResponse(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "responses.cancel", request(nil, "provider", provider, "response_id", id))
}

// DeleteResponse deletes the stored response id.
func (c *Client) DeleteResponse(ctx context.Context, provider, id string) (*Response, error) {
	return c.Call(ctx, "responses.delete", request(nil, "provider", provider, "response_id", id))
}
