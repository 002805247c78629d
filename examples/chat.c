/* A chat and a stream through libliterllm, in plain C99.
 *   cc chat.c $(pkg-config --cflags --libs literllm) -o chat && ./chat openai/gpt-4o-mini
 * Keys come from each provider's usual environment variable (OPENAI_API_KEY, ...). */
#include <literllm.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, llm_status st) {
  fprintf(stderr, "%s: %s: %s\n", what, llm_status_str(st), llm_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *model = argc > 1 ? argv[1] : "openai/gpt-4o-mini";
  char request[1024];
  llm_client_t *client = NULL;
  llm_response_t *response = NULL;
  llm_stream_t *stream = NULL;
  const char *chunk = NULL;
  llm_status st;
  int chunks = 0;

  if (strchr(model, '"') || strchr(model, '\\')) return fprintf(stderr, "odd model name\n"), 2;
  snprintf(request, sizeof request,
           "{\"model\":\"%s\",\"max_tokens\":60,\"messages\":["
           "{\"role\":\"user\",\"content\":\"Say hello in five words.\"}]}", model);

  if ((st = llm_client_new(NULL, &client)) != LLM_OK) return fail("llm_client_new", st);

  /* 1. A blocking chat: the response owns every string read from it. */
  if ((st = llm_chat(client, request, &response)) != LLM_OK) {
    llm_client_free(client);
    return fail("llm_chat", st);
  }
  printf("chat:   %s\n", llm_response_text(response) ? llm_response_text(response) : "(no text)");
  printf("        provider %s, %lld tokens, finish %s\n", llm_response_provider(response),
         (long long)llm_response_total_tokens(response), llm_response_finish_reason(response));
  llm_response_free(response);

  /* 2. A stream: pull chunks until a NULL chunk, then take the assembled response. */
  if ((st = llm_chat_stream(client, request, &stream)) != LLM_OK) {
    llm_client_free(client);
    return fail("llm_chat_stream", st);
  }
  while ((st = llm_stream_next(stream, &chunk)) == LLM_OK && chunk) chunks++;
  if (st != LLM_OK || (st = llm_stream_final_response(stream, &response)) != LLM_OK) {
    llm_stream_free(stream);
    llm_client_free(client);
    return fail("stream", st);
  }
  printf("stream: %s\n", llm_response_text(response) ? llm_response_text(response) : "(no text)");
  printf("        %d chunks, %lld tokens\n", chunks, (long long)llm_response_total_tokens(response));
  llm_response_free(response);
  llm_stream_free(stream);
  llm_client_free(client);
  return 0;
}
