// literllm.h on its own, as C++ (compiled with -std=c++11 / -std=c++20
// -pedantic -Wall -Wextra -Werror). Included twice to check the include guard.
#include <literllm.h>
#include <literllm.h>

static_assert(LLM_VERSION_NUMBER ==
                  LLM_VERSION_MAJOR * 10000 + LLM_VERSION_MINOR * 100 + LLM_VERSION_PATCH,
              "LLM_VERSION_NUMBER is an integer constant expression");
static_assert(LLM_OK == 0, "LLM_OK is 0");

// The declarations have the expected types (an exact match is needed to
// initialise these pointers) and C linkage.
extern "C" {
typedef llm_status (*literllm_chat_fn)(llm_client_t *, const char *, llm_response_t **);
typedef llm_status (*literllm_stream_next_fn)(llm_stream_t *, const char **);
typedef void (*literllm_free_fn)(llm_client_t *);
}
literllm_chat_fn literllm_check_chat = &llm_chat;
literllm_stream_next_fn literllm_check_stream_next = &llm_stream_next;
literllm_free_fn literllm_check_client_free = &llm_client_free;
llm_chat_done_cb literllm_check_done_cb = nullptr;
llm_stream_chunk_cb literllm_check_chunk_cb = nullptr;
