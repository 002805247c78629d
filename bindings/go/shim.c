#include "shim.h"
#include "_cgo_export.h"

#include <string.h>

static void lgo_done(llm_status status, llm_response_t *response, const llm_error_t *error,
                     void *user_data) {
  literllmGoDone(status, response, (llm_error_t *)error, (uintptr_t)user_data);
}

static int lgo_chunk(const char *chunk_json, void *user_data) {
  return literllmGoChunk((char *)chunk_json, (uintptr_t)user_data);
}

llm_status lgo_chat_stream_async(llm_client_t *client, const char *request_json, uintptr_t handle,
                                 uint64_t *out_request_id, llm_error_t **error) {
  return llm_chat_stream_async_e(client, request_json, lgo_chunk, lgo_done, (void *)handle,
                                 out_request_id, error);
}

lgo_bytes lgo_response_json(const llm_response_t *response) {
  lgo_bytes b;
  b.p = llm_response_json(response);
  b.n = b.p ? strlen(b.p) : 0;
  return b;
}

/* The C call's cost for bench_test.go: n blocking chats, each response's JSON
 * made and freed, as a C program would. Returns the first failing status. */
llm_status lgo_bench_chat(llm_client_t *client, const char *request_json, int n) {
  for (int i = 0; i < n; i++) {
    llm_response_t *r = NULL;
    llm_status st = llm_chat_e(client, request_json, &r, NULL);
    if (st != LLM_OK) return st;
    (void)llm_response_json(r);
    llm_response_free(r);
  }
  return LLM_OK;
}
