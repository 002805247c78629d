/* C side of the Go binding: trampolines that hand the library's callbacks,
 * on the client's I/O thread, to the exported Go functions in callbacks.go.
 * User data is a runtime/cgo.Handle carried as uintptr_t. */
#ifndef LITERLLM_GO_SHIM_H
#define LITERLLM_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <literllm.h>

llm_status lgo_chat_stream_async(llm_client_t *client, const char *request_json, uintptr_t handle,
                                 uint64_t *out_request_id, llm_error_t **error);

/* A response's JSON (llm_response_json, borrowed from the response) and its
 * length, in one call; p is NULL when memory ran out. */
typedef struct {
  const char *p;
  size_t n;
} lgo_bytes;
lgo_bytes lgo_response_json(const llm_response_t *response);

llm_status lgo_bench_chat(llm_client_t *client, const char *request_json, int n);

#endif
