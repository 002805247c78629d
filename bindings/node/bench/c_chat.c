/* The C baseline of bench.mjs: the same calls through the C API directly.
 *   c_chat BASE_URL MODE N [CONFIG]   MODE: seq | async1 | hosted1 | par16 | stream
 * (CONFIG: more client config fields, as in ",\"io_threads\":1")
 * (seq: blocking llm_chat; async1: llm_chat_async_e, the main thread waiting for each
 * answer before it starts the next, as an event loop does; hosted1: the same on a client
 * made with "io": "host", driven by a poll loop on this thread, each done callback
 * starting the next call: what the Node binding's default client does, without JS;
 * par16: 16 in flight, each done callback starting the next on the I/O thread)
 * Prints the wall time in microseconds for N calls (stream: N streams). */
#include <literllm.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *REQ = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"bench\"}]}";
static const char *STREAM_REQ =
    "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"bench\"}],"
    "\"extra_headers\":{\"x-upstream-generate\":\"content\",\"x-upstream-generate-count\":\"2000\"}}";

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int remaining_to_start, in_flight, failures;
static llm_client_t *client;

static void done(llm_status st, llm_response_t *r, const llm_error_t *e, void *u);

/* What every variant does with an answer: reads its JSON, as a C program would, and frees it. */
static void take_answer(llm_status st, llm_response_t *r) {
  if (st != LLM_OK) failures++;
  (void)llm_response_json(r);
  llm_response_free(r);
}

/* hosted1: single-threaded, so plain counters. */
static llm_client_t *hosted;
static int hosted_left;

static void hosted_done(llm_status st, llm_response_t *r, const llm_error_t *e, void *u) {
  (void)e;
  (void)u;
  take_answer(st, r);
  if (--hosted_left > 0 && llm_chat_async_e(hosted, REQ, hosted_done, NULL, NULL, NULL) != LLM_OK) {
    failures++;
    hosted_left = 0;
  }
}

static void start_one(void) {
  if (llm_chat_async_e(client, REQ, done, NULL, NULL, NULL) != LLM_OK) failures++;
}

static void done(llm_status st, llm_response_t *r, const llm_error_t *e, void *u) {
  (void)e;
  (void)u;
  take_answer(st, r);
  pthread_mutex_lock(&mu);
  int more = remaining_to_start > 0;
  if (more) remaining_to_start--;
  else in_flight--;
  if (in_flight == 0) pthread_cond_signal(&cv); /* the waiter wakes once, when all are done */
  pthread_mutex_unlock(&mu);
  if (more) start_one();
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) return 2;
  char cfg[512];
  snprintf(cfg, sizeof cfg,
           "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"%s\",\"api_key\":\"sk-bench-123456\"}}%s}",
           argv[1], argc == 5 ? argv[4] : "");
  int n = atoi(argv[3]);
  if (llm_client_new(cfg, &client) != LLM_OK) return 1;
  if (strcmp(argv[2], "hosted1") == 0) {
    char hcfg[600];
    snprintf(hcfg, sizeof hcfg, "{\"io\":\"host\",%s", cfg + 1);
    if (llm_client_new(hcfg, &hosted) != LLM_OK) return 1;
  }
  /* warm the connection */
  llm_response_t *r = NULL;
  if (llm_chat(client, REQ, &r) != LLM_OK) return 1;
  llm_response_free(r);
  double t0 = now_us();
  if (strcmp(argv[2], "seq") == 0) {
    for (int i = 0; i < n; i++) {
      llm_status st = llm_chat(client, REQ, &r);
      take_answer(st, r);
    }
  } else if (strcmp(argv[2], "async1") == 0) {
    for (int i = 0; i < n; i++) {
      pthread_mutex_lock(&mu);
      remaining_to_start = 0;
      in_flight = 1;
      pthread_mutex_unlock(&mu);
      start_one();
      pthread_mutex_lock(&mu);
      while (in_flight > 0) pthread_cond_wait(&cv, &mu);
      pthread_mutex_unlock(&mu);
    }
  } else if (strcmp(argv[2], "hosted1") == 0) {
    int fd = -1;
    if (llm_client_io_fd(hosted, &fd) != LLM_OK) return 1;
    /* warm this client's connection too, then time n calls */
    for (int round = 0; round < 2; round++) {
      if (round == 1) t0 = now_us();
      hosted_left = round == 0 ? 1 : n;
      if (llm_chat_async_e(hosted, REQ, hosted_done, NULL, NULL, NULL) != LLM_OK) return 1;
      int timeout = 0;
      while (hosted_left > 0) {
        struct pollfd p = {fd, POLLIN, 0};
        if (timeout != 0) poll(&p, 1, timeout);
        if (llm_client_io_run(hosted, &timeout) != LLM_OK) return 1;
      }
    }
  } else if (strcmp(argv[2], "par16") == 0) {
    int window = 16;
    pthread_mutex_lock(&mu);
    int first = n < window ? n : window;
    remaining_to_start = n - first;
    in_flight = first;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < first; i++) start_one();
    pthread_mutex_lock(&mu);
    while (in_flight > 0) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
  } else {
    for (int i = 0; i < n; i++) {
      llm_stream_t *s = NULL;
      if (llm_chat_stream(client, STREAM_REQ, &s) != LLM_OK) return 1;
      const char *chunk;
      while (llm_stream_next(s, &chunk) == LLM_OK && chunk != NULL) {
      }
      llm_stream_free(s);
    }
  }
  double t1 = now_us();
  if (hosted) llm_client_free(hosted);
  llm_client_free(client);
  printf("%.1f %d\n", t1 - t0, failures);
  return failures ? 1 : 0;
}
