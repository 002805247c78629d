/*
 * Peak memory of one large llm_call, in a process of its own: the growth of
 * the peak RSS (getrusage ru_maxrss) from just before the call to just after,
 * against the payload's size. The upstream runs in another process
 * (bench/payload_rss.sh starts it), so only the library's memory counts.
 *
 *   payload_rss BASE_URL embeddings N DIMS   N inputs, DIMS floats each (payload: N*DIMS*4 bytes)
 *   payload_rss BASE_URL upload-path FILE    a transcription of FILE read from disk (payload: its size)
 *   payload_rss BASE_URL upload-data FILE    the same from caller-owned bytes (loaded first, outside the window)
 * Prints: "<mode> payload_bytes=P peak_growth_bytes=G ratio=G/P".
 */
#include <literllm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static long peak_kib(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

static void die(const char *what) {
  fprintf(stderr, "payload_rss: %s: %s (%s)\n", what, llm_last_error(), llm_status_str(llm_last_error_status()));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: payload_rss BASE_URL embeddings N DIMS | upload-path FILE | upload-data FILE\n");
    return 2;
  }
  char cfg[1024];
  snprintf(cfg, sizeof cfg, "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"%s\",\"api_key\":\"k\"}}}",
           argv[1]);
  llm_client_t *client = NULL;
  if (llm_client_new(cfg, &client) != LLM_OK) die("llm_client_new");
  llm_response_t *r = NULL;
  /* Warm up: the connection, TLS-free here, curl's and the library's first allocations. */
  if (llm_call(client, "embeddings", "{\"model\":\"openai/text-embedding-3-small\",\"input\":\"warm\"}", NULL, NULL, 0,
               &r) != LLM_OK)
    die("warm-up");
  llm_response_free(r);

  const char *mode = argv[2];
  unsigned long long payload = 0;
  long before = 0, after = 0;
  if (strcmp(mode, "embeddings") == 0 && argc >= 5) {
    long n = atol(argv[3]), dims = atol(argv[4]);
    size_t cap = (size_t)n * 32 + 256;
    char *req = malloc(cap);
    size_t at = (size_t)snprintf(req, cap, "{\"model\":\"openai/text-embedding-3-small\",\"dimensions\":%ld,\"input\":[", dims);
    for (long i = 0; i < n; ++i) at += (size_t)snprintf(req + at, cap - at, "%s\"input number %ld\"", i ? "," : "", i);
    snprintf(req + at, cap - at, "]}");
    payload = (unsigned long long)n * (unsigned long long)dims * 4u;
    before = peak_kib();
    if (llm_call(client, "embeddings", req, NULL, NULL, 0, &r) != LLM_OK) die("embeddings");
    size_t count = 0, d = 0;
    const float *v = llm_response_embeddings(r, &count, &d);
    if (!v || count != (size_t)n || d != (size_t)dims) die("embeddings buffer");
    after = peak_kib();
    llm_response_free(r);
    free(req);
  } else if (strcmp(mode, "upload-path") == 0 || strcmp(mode, "upload-data") == 0) {
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
      perror(argv[3]);
      return 1;
    }
    fseek(f, 0, SEEK_END);
    payload = (unsigned long long)ftell(f);
    fseek(f, 0, SEEK_SET);
    char req[2048];
    const void *data[1] = {NULL};
    size_t sizes[1] = {0};
    char *bytes = NULL;
    if (mode[7] == 'd') {
      bytes = malloc(payload);
      if (fread(bytes, 1, payload, f) != payload) die("read");
      data[0] = bytes;
      sizes[0] = payload;
      snprintf(req, sizeof req, "{\"model\":\"openai/whisper-1\",\"file\":{\"data\":0,\"filename\":\"talk.wav\"}}");
    } else {
      snprintf(req, sizeof req, "{\"model\":\"openai/whisper-1\",\"file\":{\"path\":\"%s\"}}", argv[3]);
    }
    fclose(f);
    before = peak_kib();
    if (llm_call(client, "audio.transcriptions", req, data, sizes, bytes ? 1 : 0, &r) != LLM_OK) die("upload");
    after = peak_kib();
    llm_response_free(r);
    free(bytes);
  } else {
    fprintf(stderr, "payload_rss: unknown mode %s\n", mode);
    return 2;
  }
  unsigned long long growth = (unsigned long long)(after - before) * 1024u;
  printf("%s payload_bytes=%llu peak_growth_bytes=%llu ratio=%.2f\n", mode, payload, growth,
         (double)growth / (double)payload);
  llm_client_free(client);
  return 0;
}
