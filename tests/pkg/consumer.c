/*
 * A program outside the project that uses the installed libliterllm: built once
 * with nothing but `pkg-config --cflags --libs literllm` and once through
 * find_package(literllm) + literllm::literllm (tests/pkg/cmake_consumer).
 * No network: it only creates clients, previews a request and reads errors.
 * Exits 0 when every check passes; otherwise prints each failed check and
 * exits 1.
 */
#define _POSIX_C_SOURCE 200112L /* setenv, unsetenv */

#include <literllm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "consumer: FAILED: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  failures++;
}

static void check(int ok, const char *what) {
  if (!ok) fail(what, NULL);
}

static const char *show(const char *s) { return s ? s : "(null)"; }

int main(void) {
  static const char secret[] = "sk-test-secret";
  static const char request[] =
      "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  char expected_version[32];
  const char *version;
  llm_client_t *client = NULL;
  llm_client_t *bad = NULL;
  llm_status st;
  char *preview = NULL;
  char *providers = NULL;
  const char *msg;

  /* The key must come from the environment, and nothing else may steer the URL. */
  if (setenv("OPENAI_API_KEY", secret, 1) != 0) {
    fail("setenv OPENAI_API_KEY", NULL);
    return 1;
  }
  unsetenv("OPENAI_BASE_URL");
  unsetenv("OPENAI_API_BASE");

  /* ---- version: the library matches the header it was compiled against */
  version = llm_version();
  printf("consumer: llm_version() = %s\n", show(version));
  snprintf(expected_version, sizeof expected_version, "%d.%d.%d", LLM_VERSION_MAJOR,
           LLM_VERSION_MINOR, LLM_VERSION_PATCH);
  if (!version || strcmp(version, expected_version) != 0)
    fail("llm_version() differs from the header's LLM_VERSION_MAJOR.MINOR.PATCH", expected_version);
  if (llm_version_number() != (unsigned)LLM_VERSION_NUMBER) {
    char detail[64];
    snprintf(detail, sizeof detail, "library %u, header %u", llm_version_number(),
             (unsigned)LLM_VERSION_NUMBER);
    fail("llm_version_number() != LLM_VERSION_NUMBER", detail);
  }

  /* ---- status names */
  check(strcmp(show(llm_status_str(LLM_OK)), "LLM_OK") == 0, "llm_status_str(LLM_OK) == \"LLM_OK\"");
  check(strcmp(show(llm_status_str(LLM_ERR_INVALID_ARGUMENT)), "LLM_ERR_INVALID_ARGUMENT") == 0,
        "llm_status_str(LLM_ERR_INVALID_ARGUMENT)");
  check(strcmp(show(llm_status_str(LLM_ERR_TIMEOUT)), "LLM_ERR_TIMEOUT") == 0,
        "llm_status_str(LLM_ERR_TIMEOUT)");
  check(strcmp(show(llm_status_str(LLM_ERR_INTERNAL)), "LLM_ERR_INTERNAL") == 0,
        "llm_status_str(LLM_ERR_INTERNAL)");
  check(strcmp(show(llm_status_str((llm_status)9999)), "LLM_ERR_UNKNOWN") == 0,
        "llm_status_str(9999) == \"LLM_ERR_UNKNOWN\"");

  /* ---- a client with a valid configuration */
  st = llm_client_new("{\"timeout_secs\": 5}", &client);
  if (st != LLM_OK || client == NULL) {
    fail("llm_client_new({\"timeout_secs\": 5})", llm_last_error());
    fprintf(stderr, "consumer: status %s\n", show(llm_status_str(st)));
  }

  /* ---- an unknown configuration field is refused and named */
  bad = (llm_client_t *)&bad; /* must be overwritten with NULL */
  st = llm_client_new("{\"bogus\":1}", &bad);
  if (st != LLM_ERR_INVALID_ARGUMENT) {
    fail("llm_client_new({\"bogus\":1}) must give LLM_ERR_INVALID_ARGUMENT, got", show(llm_status_str(st)));
    if (st == LLM_OK) llm_client_free(bad);
  } else {
    msg = llm_last_error();
    printf("consumer: llm_last_error() = %s\n", show(msg));
    if (!msg || !strstr(msg, "bogus")) fail("llm_last_error() must name the field \"bogus\"", show(msg));
    check(llm_last_error_status() == LLM_ERR_INVALID_ARGUMENT,
          "llm_last_error_status() == LLM_ERR_INVALID_ARGUMENT after the failure");
    check(bad == NULL, "llm_client_new sets *out to NULL on failure");
  }

  /* ---- preview: the URL, and the key redacted */
  if (client) {
    preview = (char *)&preview; /* must be overwritten */
    st = llm_preview_request(client, request, 0, &preview);
    if (st != LLM_OK) {
      fail("llm_preview_request", llm_last_error());
      preview = NULL;
    } else if (!preview || preview == (char *)&preview) {
      fail("llm_preview_request gave LLM_OK but no string", NULL);
      preview = NULL;
    } else {
      printf("consumer: preview = %s\n", preview);
      if (!strstr(preview, "https://api.openai.com/v1/chat/completions"))
        fail("the preview must contain https://api.openai.com/v1/chat/completions", NULL);
      if (!strstr(preview, "[REDACTED]")) fail("the preview must contain [REDACTED]", NULL);
      if (strstr(preview, secret)) fail("the preview leaks the API key", NULL);
      if (!strstr(preview, "gpt-4o-mini")) fail("the preview body must name the model gpt-4o-mini", NULL);
    }
    llm_string_free(preview);
    preview = NULL;

    st = llm_preview_request(client, request, 1, &preview);
    if (st != LLM_OK || !preview) {
      fail("llm_preview_request(stream = 1)", llm_last_error());
    } else {
      if (!strstr(preview, "https://api.openai.com/v1/chat/completions"))
        fail("the streaming preview must contain the chat-completions URL", NULL);
      if (strstr(preview, secret)) fail("the streaming preview leaks the API key", NULL);
    }
    llm_string_free(preview);
    preview = NULL;

    /* An invalid request is refused before anything is sent. */
    st = llm_preview_request(client, "{\"model\":", 0, &preview);
    if (st == LLM_OK) {
      fail("llm_preview_request accepted malformed JSON", NULL);
      llm_string_free(preview);
    } else if (preview != NULL) {
      fail("llm_preview_request left *out set on failure", NULL);
    }
    preview = NULL;
  }

  /* ---- the global provider table */
  st = llm_providers_json(NULL, &providers);
  if (st != LLM_OK || !providers) {
    fail("llm_providers_json(NULL)", llm_last_error());
  } else if (!strstr(providers, "\"openai\"")) {
    fail("llm_providers_json(NULL) must list \"openai\"", NULL);
  }
  llm_string_free(providers);

  /* ---- NULL is a no-op for every free */
  llm_string_free(NULL);
  llm_response_free(NULL);
  llm_stream_free(NULL);
  llm_client_free(NULL);

  llm_client_free(client);

  if (failures) {
    fprintf(stderr, "consumer: %d check(s) failed\n", failures);
    return 1;
  }
  printf("consumer: all checks passed\n");
  return 0;
}
