/*
 * literllm.h: the public C API of libliterllm.
 *
 * One library that speaks to every major LLM provider. Requests and responses
 * cross this API as UTF-8 JSON text in the OpenAI chat-completions shape; the
 * fields programs read most also have plain accessors.
 *
 * Conventions (they hold for every function below unless it says otherwise):
 *  - Every fallible function returns an llm_status; LLM_OK (0) is success.
 *    On failure, llm_last_error() returns a message for the calling thread
 *    (it names the offending field where there is one, and the provider's own
 *    message and HTTP status where the provider answered). Out parameters are
 *    written only on success; on failure they are set to NULL / 0.
 *    Every fallible function also has an `_e` form that hands the error back
 *    as an object (llm_error_t), for callers that cannot use thread-local
 *    state. Out of memory is LLM_ERR_OUT_OF_MEMORY, never an abort.
 *  - Handles are opaque. Each llm_<thing>_new / call that returns a handle
 *    gives the caller ownership; free it with the matching llm_<thing>_free.
 *    Every llm_*_free(NULL) is a no-op.
 *  - A `const char *` the library returns is borrowed: it stays valid until
 *    the handle it came from is freed (for a stream chunk: until the next
 *    llm_stream_next or llm_stream_free on that stream). A `char *` the library
 *    returns is owned by the caller and freed with llm_string_free().
 *  - All strings are UTF-8 and NUL-terminated. Secrets (API keys, tokens)
 *    never appear in error messages, previews or logs.
 *  - Threads: a client may be shared by any number of threads. A response or
 *    a stream may be used by one thread at a time (llm_stream_cancel is the
 *    exception: any thread, any time). A cancel token may be used by any
 *    number of threads at once.
 *
 * This header compiles as C99 and as C++. It changes only by addition.
 */
#ifndef LITERLLM_H
#define LITERLLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(LITERLLM_BUILDING)
#    define LLM_API __declspec(dllexport)
#  else
#    define LLM_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define LLM_API __attribute__((visibility("default")))
#else
#  define LLM_API
#endif

/* ---------------------------------------------------------------- version */

#define LLM_VERSION_MAJOR 0
#define LLM_VERSION_MINOR 1
#define LLM_VERSION_PATCH 0
#define LLM_VERSION_NUMBER (LLM_VERSION_MAJOR * 10000 + LLM_VERSION_MINOR * 100 + LLM_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH". Static storage; never fails. */
LLM_API const char *llm_version(void);
/* The library's version as LLM_VERSION_NUMBER computes it, for run-time checks
 * against the header a program was compiled with. Never fails. */
LLM_API unsigned llm_version_number(void);

/* ----------------------------------------------------------------- status */

typedef enum llm_status {
  LLM_OK = 0,
  LLM_ERR_INVALID_ARGUMENT = 1,    /* a NULL or ill-formed argument, or an invalid field in a request or config */
  LLM_ERR_AUTHENTICATION = 2,      /* HTTP 401/403, or no API key where the provider needs one */
  LLM_ERR_RATE_LIMITED = 3,        /* HTTP 429 */
  LLM_ERR_BAD_REQUEST = 4,         /* HTTP 400/422 the provider rejected */
  LLM_ERR_CONTEXT_WINDOW_EXCEEDED = 5, /* the prompt is longer than the model accepts */
  LLM_ERR_CONTENT_POLICY = 6,      /* the provider's content filter refused */
  LLM_ERR_NOT_FOUND = 7,           /* HTTP 404: unknown model or endpoint */
  LLM_ERR_SERVER_ERROR = 8,        /* HTTP 5xx other than 503 */
  LLM_ERR_SERVICE_UNAVAILABLE = 9, /* HTTP 503 / 529 overloaded */
  LLM_ERR_TIMEOUT = 10,            /* connect, total or idle-stream timeout */
  LLM_ERR_STREAMING = 11,          /* a stream broke: cut, malformed event, error event */
  LLM_ERR_ENDPOINT_NOT_SUPPORTED = 12, /* the provider has no such endpoint */
  LLM_ERR_INVALID_HEADER = 13,     /* a header name or value that cannot be sent */
  LLM_ERR_SERIALIZATION = 14,      /* a response body that is not the JSON it should be */
  LLM_ERR_BUDGET_EXCEEDED = 15,    /* a spending budget would be exceeded */
  LLM_ERR_HOOK_REJECTED = 16,      /* a hook refused the request */
  LLM_ERR_NETWORK = 17,            /* DNS, connect, TLS, connection reset */
  LLM_ERR_CANCELLED = 18,          /* cancelled by the caller or by llm_client_free */
  LLM_ERR_INTERNAL = 19,           /* a bug in literllm: please report it */
  LLM_ERR_LIMIT_EXCEEDED = 20,     /* an answer crossed one of the client's size limits (the message
                                      names it: max_response_bytes, max_stream_bytes, max_event_bytes,
                                      max_choices, max_tool_calls); raise it in the config */
  LLM_ERR_OUT_OF_MEMORY = 21       /* an allocation failed; the call is abandoned (nothing is
                                      retried), the client stays usable */
} llm_status;

/* A short constant name for a status ("LLM_ERR_TIMEOUT"), static storage.
 * An unknown value gives "LLM_ERR_UNKNOWN". Never fails. */
LLM_API const char *llm_status_str(llm_status status);

/* The message of the calling thread's last failed call, "" if none yet.
 * Borrowed: valid until the calling thread's next literllm call. Thread-local;
 * a successful call does not clear it. */
LLM_API const char *llm_last_error(void);
/* The status of the calling thread's last failed call (LLM_OK if none yet). */
LLM_API llm_status llm_last_error_status(void);
/* The HTTP status the provider answered with in the calling thread's last
 * failed call, or 0 when the failure did not come from an HTTP answer. */
LLM_API int llm_last_error_http_status(void);

/* Frees a string the library returned as `char *`. NULL is a no-op. */
LLM_API void llm_string_free(char *s);

/* ------------------------------------------------------------ error object */

/*
 * An error as an object, for programs (and language bindings) that cannot
 * rely on thread-local state: a goroutine may move between threads, a worker
 * pool may read results on another thread than the one that failed.
 * Every fallible function has a form ending in `_e` that takes one more
 * argument, `llm_error_t **error` (may be NULL): on failure *error receives a
 * new error object the caller owns (free it with llm_error_free); on success
 * it is set to NULL. The `_e` forms also set the thread-local last error, as
 * the plain forms do. The done callback of llm_chat_async_e and
 * llm_chat_stream_async_e receives one (borrowed: llm_error_clone keeps it).
 * Fields are read through accessors, so the object can grow by addition.
 * Every accessor accepts NULL (and answers as for "no such field").
 * When memory runs out while making an error object, the object given is a
 * shared static one with status LLM_ERR_OUT_OF_MEMORY; llm_error_free on it
 * (or on any object) is always correct.
 */
typedef struct llm_error llm_error_t;

/* The error's status (LLM_OK for NULL). */
LLM_API llm_status llm_error_status(const llm_error_t *error);
/* The message: UTF-8 (invalid bytes of a provider's answer are replaced by
 * U+FFFD), secrets redacted, never NULL ("" for NULL). Borrowed from `error`. */
LLM_API const char *llm_error_message(const llm_error_t *error);
/* The HTTP status the provider answered with, or 0 when the error did not come
 * from an HTTP answer. */
LLM_API int llm_error_http_status(const llm_error_t *error);
/* The provider's name ("openai", ...) when the error concerns a call routed to
 * one, else NULL. Borrowed. */
LLM_API const char *llm_error_provider(const llm_error_t *error);
/* The provider's own error code (its error body's "code", e.g.
 * "context_length_exceeded") and type ("type", e.g. "invalid_request_error"),
 * or NULL when its answer gave none. Borrowed. */
LLM_API const char *llm_error_code(const llm_error_t *error);
LLM_API const char *llm_error_type(const llm_error_t *error);
/* How long the provider asked to wait before trying again (Retry-After or
 * retry-after-ms), in milliseconds, or -1 when it did not say. */
LLM_API int64_t llm_error_retry_after_ms(const llm_error_t *error);
/* The retries the call made before failing (0 when it failed at once). */
LLM_API int llm_error_retries(const llm_error_t *error);
/* A copy the caller owns (llm_error_free), or NULL for NULL. Out of memory
 * gives the shared static LLM_ERR_OUT_OF_MEMORY object. Never fails otherwise. */
LLM_API llm_error_t *llm_error_clone(const llm_error_t *error);
/* Frees an error object. NULL is a no-op. */
LLM_API void llm_error_free(llm_error_t *error);
/* The calling thread's last error as an object the caller owns, or NULL when
 * no call of this thread has failed yet. Thread-local, as llm_last_error. */
LLM_API llm_error_t *llm_last_error_object(void);

/* ------------------------------------------------------ the process's rules */

/*
 * Initialization. The library initializes itself (libcurl's global state
 * included) on first use. A program that must configure libcurl first (for
 * example curl_global_sslset) does so, then calls llm_init before making a
 * client. llm_init may be called any number of times from any thread; after a
 * failure (LLM_ERR_OUT_OF_MEMORY, or LLM_ERR_INTERNAL when libcurl cannot
 * initialize) a later call, or the next llm_client_new, tries again.
 *
 * Threads and signals. Each client's I/O thread blocks every asynchronous
 * signal (all but SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS): a
 * signal aimed at the process is delivered to one of the program's own
 * threads, so a program that blocks SIGTERM everywhere to sigwait for it gets
 * it. The library's per-thread state (the last error, parser buffers) is valid
 * for a thread's whole life, including its pthread key destructors, and a
 * thread keeps at most a few hundred KiB of it between calls.
 *
 * fork(). A client belongs to the process that made it. In a child made by
 * fork(), every call on a client (or a stream) of the parent fails with
 * LLM_ERR_INVALID_ARGUMENT saying so, without touching the parent's
 * connections; llm_client_free and llm_stream_free then give the object up
 * without joining its thread (which does not exist in the child) or closing
 * anything the parent uses (its memory, the child's copy of the parent's, is
 * not reclaimed). Responses and error objects stay usable. A child makes its
 * own clients.
 *
 * exit(). A process may exit (exit(), return from main) with transfers in
 * flight: at exit the library's I/O threads stop where they are between two
 * steps of their loop, before any static destructor runs, and no callback
 * starts afterwards (a callback already running is waited for, up to 2 s in
 * all). A program's own thread inside llm_chat at that moment stops the same
 * way. The library holds no static object with a destructor.
 */
LLM_API llm_status llm_init(void);
LLM_API llm_status llm_init_e(llm_error_t **error);

/* ----------------------------------------------------------------- client */

typedef struct llm_client llm_client_t;

/*
 * Creates a client. `config_json` is a JSON object, or NULL / "" for all
 * defaults. Fields (all optional):
 *   "api_key":      string  key for the default provider (see "model_hint");
 *                           no control characters
 *   "base_url":     string  base URL for the default provider: http:// or
 *                           https://, a host, no space or control character
 *   "model_hint":   string  provider used for a model with no "provider/" prefix
 *                           (default "openai"); a built-in provider or one
 *                           registered globally before the client is made
 *   "timeout_secs": number  the whole call, > 0 (default 600): every attempt,
 *                           backoff and Retry-After wait included. A retry
 *                           whose wait would end past it is not made: the
 *                           call fails with the last attempt's error.
 *   "connect_timeout_secs": number  > 0 (default 10)
 *   "stream_idle_timeout_secs": number  longest silence in a stream, > 0
 *                           (default 300): from the moment the request is
 *                           sent until the response headers, and between
 *                           body bytes after them (LLM_ERR_TIMEOUT). A
 *                           non-streamed call's wait for its answer is bounded
 *                           by timeout_secs only (models may think for long).
 *   "max_retries":  integer 0..20 (default 2); retries apply to connection
 *                           failures (refused, unresolved, connect timeout, a
 *                           connection that broke), servers that break HTTP,
 *                           and HTTP 408, 429, 500, 502, 503, 504, 529; never
 *                           after a stream chunk reached the caller, never to a
 *                           server whose TLS certificate does not verify, never
 *                           after LLM_ERR_OUT_OF_MEMORY; the wait is
 *                           retry-after-ms or Retry-After (seconds or an
 *                           HTTP date) when the provider sends one (no retry
 *                           past 60 s), else exponential backoff from 0.5 s
 *                           with jitter
 *   "providers":    object  per provider: {"<name or alias>": {"api_key": s,
 *                           "base_url": s, "headers": {name: value}, and the
 *                           provider's own settings}}; the provider must be
 *                           known (as for model_hint). Settings (strings; each
 *                           falls back to the environment variables named,
 *                           then to a default; llm_providers_json lists each
 *                           provider's):
 *                           vertex_ai: "project" (VERTEXAI_PROJECT), "location"
 *                             (VERTEXAI_LOCATION, default us-central1),
 *                             "credentials_file"
 *                             (GOOGLE_APPLICATION_CREDENTIALS): a service-
 *                             account key file (or its JSON itself), read
 *                             when a call first needs it; the client signs
 *                             a JWT with its key, exchanges it at the file's
 *                             token_uri for an access token on its I/O
 *                             thread, shares that token among its calls
 *                             (one exchange however many calls wait),
 *                             renews it 5 minutes before it expires, and
 *                             once per call when the provider answers 401;
 *                             a call's wait for it counts toward the
 *                             call's timeout (LLM_ERR_TIMEOUT).
 *                             A file that cannot be read or is not a
 *                             service-account key: LLM_ERR_INVALID_ARGUMENT
 *                             naming the setting (at llm_preview_request
 *                             too, which exchanges nothing); an exchange
 *                             refused: LLM_ERR_AUTHENTICATION; an endpoint
 *                             that cannot be reached: LLM_ERR_NETWORK,
 *                             retried as a call is. "access_token"
 *                             (VERTEXAI_ACCESS_TOKEN): a fixed token
 *                             instead, which wins over the file;
 *                           bedrock: "region" (AWS_REGION, AWS_DEFAULT_REGION),
 *                             "aws_access_key_id", "aws_secret_access_key",
 *                             "aws_session_token" (the AWS_* variables of the
 *                             same names); its "api_key" (or
 *                             AWS_BEARER_TOKEN_BEDROCK) is sent as a bearer
 *                             token instead of a SigV4 signature;
 *                           azure_openai: "api_version" (AZURE_API_VERSION,
 *                             default 2024-10-21), "azure_ad_token"
 *                             (AZURE_OPENAI_AD_TOKEN: an Entra ID token sent
 *                             as a bearer token when no key is given), and
 *                             "base_url" falls back to AZURE_OPENAI_ENDPOINT;
 *                           cloudflare, cloudflare_ai_gateway: "account_id"
 *                             (CLOUDFLARE_ACCOUNT_ID), and for the gateway
 *                             "gateway_id" (CLOUDFLARE_GATEWAY_ID).
 *                           A call to a provider whose URL needs a setting
 *                           that is not set fails with LLM_ERR_INVALID_ARGUMENT
 *                           naming providers.<name>.<setting>, at
 *                           llm_preview_request as at the call
 *   "headers":      object  extra headers sent with every request
 *   "io":           string  "thread" (default): the client runs its own I/O
 *                           thread; "host": it has none, and the program runs
 *                           its loop from its own event loop (see "Hosted I/O"
 *                           below: llm_client_io_fd, llm_client_io_run)
 *   "io_threads":   integer 0..64: the most event loops, each with its own I/O
 *                           thread, the client spreads its calls over
 *                           (default 1; 0: one per processor the process may
 *                           run on, at most 8; with "io": "host" more than 1
 *                           is refused). The first loop is made with the
 *                           client, the others only when every loop there is
 *                           carries 4 calls or more (below). One loop serves
 *                           thousands of calls in flight; more help when one
 *                           thread's share of the work (TLS, parsing streams)
 *                           is the limit and processors are free
 * Limits on what an answer may make the library hold (integers; crossing one
 * ends the call with LLM_ERR_LIMIT_EXCEEDED naming it, and the memory a call
 * holds stays within about twice the limit that applies):
 *   "max_response_bytes": a non-streamed answer's body, decoded
 *                           (default 268435456 = 256 MiB; 1024..2147483647)
 *   "max_stream_bytes":   what one stream keeps to assemble its final
 *                           response: content, refusal, reasoning, tool-call
 *                           arguments, audio, logprobs, annotations
 *                           (default 67108864 = 64 MiB; 1024..2147483647)
 *   "max_event_bytes":    one line of a stream, or the data of one event
 *                           (default 16777216 = 16 MiB; 1024..2147483647)
 *   "max_choices":        choices one stream may open (default 128; 1..65536)
 *   "max_tool_calls":     tool calls per choice in one stream (default 128;
 *                           1..65536)
 *   "max_header_bytes":   the response headers together (default 262144 =
 *                           256 KiB; 1024..307200, libcurl's own ceiling);
 *                           more is a broken server: LLM_ERR_NETWORK
 * Fixed limits: a request's URL and headers together at most 262144 bytes
 * (LLM_ERR_INVALID_HEADER); of an HTTP error answer's body the first 1 MiB is
 * read (the rest is not, and the connection is closed).
 * Headers (here, in "providers", in a registration, in a request's
 * "extra_headers"): a name is an RFC 9110 token, a value has no control
 * character, and the headers that frame the message or the connection are the
 * library's own: Content-Length, Transfer-Encoding, Host, Connection,
 * Keep-Alive, TE, Trailer, Upgrade, Expect, Accept-Encoding, Proxy-Connection
 * and ":pseudo" headers fail with LLM_ERR_INVALID_HEADER naming the header.
 * Secrets: the API keys, the value of every credential header (Authorization,
 * Proxy-Authorization, Cookie, api-key, x-api-key, x-goog-api-key, and any
 * name containing key, token, secret or auth) and a base URL's userinfo and
 * key/token query values are replaced by "[REDACTED]" wherever text leaves the
 * library (errors, previews, provider listings), whether echoed raw,
 * JSON-escaped or percent-encoded.
 * A provider's key defaults to its usual environment variable
 * (OPENAI_API_KEY, GROQ_API_KEY, ...: see llm_providers_json); surrounding
 * spaces and line ends are dropped. The environment is the one the process
 * had when the client was made: a later setenv does not change the client.
 * That holds for the network settings read from it too, as curl reads them
 * (an empty variable counts as unset): the proxy of http:// URLs (http_proxy;
 * never HTTP_PROXY, which a CGI program's environment makes of a request's
 * "Proxy:" header), of https:// URLs (https_proxy, else HTTPS_PROXY: a
 * CONNECT tunnel), of both when that is unset (all_proxy, else ALL_PROXY;
 * socks5:// and other schemes curl knows), the hosts reached without one
 * (no_proxy, else NO_PROXY: comma-separated names, domains, addresses or
 * "*"), and the CA bundle (CURL_CA_BUNDLE, else SSL_CERT_FILE) and directory
 * (SSL_CERT_DIR) certificates are checked against. A proxy's user and
 * password never appear in errors.
 * Every field is checked here, where it enters, naming the field; calls and
 * llm_preview_request then check the same things. An unknown field, a
 * repeated field, a wrong type or an out-of-range value fails with
 * LLM_ERR_INVALID_ARGUMENT (a header with LLM_ERR_INVALID_HEADER).
 *
 * The client owns an event loop and its I/O thread that drives every transfer
 * it makes, with connections kept alive (HTTP/2 multiplexed where the server
 * offers it) and TLS verification on. With "io_threads" above 1 it spreads
 * calls over more loops under load: a new call goes to the loop carrying the
 * fewest calls (the first of those on a tie, so one call at a time always
 * uses the first), and stays there, retries and all; each loop keeps its own
 * connections. A
 * blocking call (llm_chat) that finds its loop idle runs it on the calling
 * thread for as long as it is the loop's only user, sparing two thread
 * switches; the callbacks of llm_chat_async and llm_chat_stream_async always
 * run on the I/O thread of the call's loop ("the I/O thread" below).
 * No call can hold the loop: each delivers at most 256 KiB per turn before the
 * others get theirs (a huge or compressed answer does not stall the rest).
 * With "io": "host" there is no I/O thread: see "Hosted I/O".
 * Free it with llm_client_free. Thread-safe. Fails with LLM_ERR_NETWORK when
 * the process has no descriptor or thread left for the first loop (a later
 * loop that cannot be made is not an error: the loops there are carry on).
 */
LLM_API llm_status llm_client_new(const char *config_json, llm_client_t **out);
LLM_API llm_status llm_client_new_e(const char *config_json, llm_client_t **out, llm_error_t **error);

/* As llm_client_new, reading the configuration from a file: TOML when the
 * path ends in ".toml", else JSON. The same fields apply (in TOML, "providers"
 * is a table of tables). Fails with LLM_ERR_INVALID_ARGUMENT when the file
 * cannot be read whole (any read error, or more than 16 MiB) or parsed (the
 * message names the path and the line). */
LLM_API llm_status llm_client_new_from_file(const char *path, llm_client_t **out);
LLM_API llm_status llm_client_new_from_file_e(const char *path, llm_client_t **out, llm_error_t **error);

/* Frees a client. Transfers still in flight are cancelled: their callbacks run
 * (with LLM_ERR_CANCELLED) before this returns, and streams still held by the
 * caller then answer LLM_ERR_CANCELLED; they must still be freed.
 * From inside one of this client's own callbacks (as a garbage collector may
 * do), it returns at once and the free happens on that callback's I/O thread
 * once it has returned: the other transfers' callbacks then run (each on its
 * own loop's I/O thread) with
 * LLM_ERR_CANCELLED, and the client must not be used again (the callback that
 * freed it must not use it after this returns). No other call on the client may
 * run at the same time. NULL is a no-op. In a forked child, see "fork()". */
LLM_API void llm_client_free(llm_client_t *client);

/* --------------------------------------------------------------- response */

typedef struct llm_response llm_response_t;

/*
 * Sends a chat-completions request and waits for the answer.
 *
 * `request_json` is an OpenAI chat-completions request. "model" is
 * "provider/model" (e.g. "groq/llama-3.1-8b-instant") or a bare model name
 * for the client's model_hint provider.
 * Routing: the text before the first "/" is matched (case-insensitively, with
 * "-", "_" and " " alike) against the providers' names, aliases and declared
 * prefixes (llm_providers_json), and the rest is the model sent. One
 * exception keeps a prompt with the company the user chose: when the config
 * sets "model_hint" to a provider that serves other companies' models under
 * their names (openrouter, together, groq, fireworks, nvidia_nim, nebius,
 * sambanova, cloudflare, github, the local servers ollama, lm_studio, vllm,
 * sglang, llama_cpp, and every registered provider), a model id goes to that
 * provider whole ("openai/gpt-oss-120b", "Qwen/Qwen2.5-72B-Instruct-Turbo")
 * unless its prefix is that provider's canonical name (then stripped), a
 * registered provider, or one configured under the config's "providers".
 * NVIDIA's own models keep their prefix: "nvidia/llama-3.1-nemotron-70b-instruct"
 * goes to nvidia_nim as it is.
 * With no model_hint in the config, a prefix that is no provider fails with
 * LLM_ERR_INVALID_ARGUMENT; with one, the model goes to it whole. Supported fields: messages (roles
 * system, developer, user, assistant, tool; content as a string or parts of
 * type text, image_url, input_audio, file/document), tools, tool_choice,
 * parallel_tool_calls, response_format, temperature, top_p, n, stop,
 * max_tokens, max_completion_tokens, presence_penalty, frequency_penalty,
 * logit_bias, logprobs, top_logprobs, seed, user, reasoning_effort,
 * stream_options, metadata, and the extensions:
 *   "extra_body":    object of fields added to the provider's request body
 *                    ("top_k", "repetition_penalty", ...); it may only add:
 *                    a field named above (or any literllm extension), or one
 *                    the request already sets, fails with
 *                    LLM_ERR_INVALID_ARGUMENT naming it
 *   "extra_headers": object of extra HTTP headers for this request (the
 *                    rules of the config's "headers" apply)
 *   "timeout_secs":  number, this request's whole timeout (as the config's)
 *   "provider_options": {"<provider name or alias>": {...}}: the object of
 *                    the provider the call goes to is merged into its native
 *                    request body (its fields win; objects merge one level
 *                    deep), e.g. {"anthropic": {"top_k": 5}}, {"gemini":
 *                    {"safetySettings": [...]}}; the other providers' are
 *                    dropped (a fallback may use them)
 * Native providers (anthropic, bedrock, gemini, vertex_ai, cohere) get the
 * request translated to their own API; what it cannot carry fails with
 * LLM_ERR_INVALID_ARGUMENT naming the field (n > 1, logprobs, audio input,
 * ...). Their answers come back in the OpenAI shape; reasoning a provider
 * wants back verbatim (Anthropic's signed thinking, Bedrock's reasoning
 * blocks) is kept on the message as "thinking_blocks", and sent back as it is
 * when the message is part of a later request to such a provider (an
 * OpenAI-compatible host, which would refuse the field, never gets it).
 * A message's "reasoning_content" (the reasoning as text) goes to
 * OpenAI-compatible hosts as given, since some want it back (DeepSeek refuses
 * a thinking tool loop whose assistant turns lack it), except to groq,
 * mistral and cerebras, which refuse the field: it is dropped for them.
 * A field of the wrong type or shape fails with LLM_ERR_INVALID_ARGUMENT
 * naming it, before anything is sent; "stream" must be absent or false here
 * (use llm_chat_stream). The structure is checked for every provider; value
 * limits that are one provider's own (OpenAI's: at most 4 stop strings,
 * top_logprobs up to 20, tool names matching ^[a-zA-Z0-9_-]{1,64}$, the
 * known reasoning_effort values, ...) are applied only to that provider.
 *
 * On success *out is a new response the caller owns (llm_response_free).
 * Its JSON is an OpenAI chat.completion object plus "provider" (the provider's
 * name) and "stats" ({"bytes_sent", "bytes_received", "latency_ms",
 * "http_status", "retries"}).
 * Blocks the calling thread; thread-safe. Must not be called from one of this
 * client's callbacks (fails with LLM_ERR_INVALID_ARGUMENT: use llm_chat_async).
 */
LLM_API llm_status llm_chat(llm_client_t *client, const char *request_json, llm_response_t **out);
LLM_API llm_status llm_chat_e(llm_client_t *client, const char *request_json, llm_response_t **out,
                              llm_error_t **error);

/* The whole response as JSON (see llm_chat). Borrowed from `response`.
 * Made on first use: NULL when memory runs out then (or for NULL), with the
 * thread's last error set to LLM_ERR_OUT_OF_MEMORY; a later call tries again. */
LLM_API const char *llm_response_json(const llm_response_t *response);
/* The first choice's message content, or NULL when it has none (a tool call
 * only, or a refusal). Borrowed. Content may hold NUL bytes (JSON's
 * \u0000): llm_response_text_n gives the length too. */
LLM_API const char *llm_response_text(const llm_response_t *response);
/* As llm_response_text, and writes the content's length in bytes (NUL bytes
 * included) to *len when len is not NULL (0 when NULL is returned). */
LLM_API const char *llm_response_text_n(const llm_response_t *response, size_t *len);
/* The first choice's finish reason ("stop", "length", "tool_calls",
 * "content_filter", ...), or NULL. Borrowed. */
LLM_API const char *llm_response_finish_reason(const llm_response_t *response);
/* The first choice's refusal text, or NULL. Borrowed. */
LLM_API const char *llm_response_refusal(const llm_response_t *response);
/* As llm_response_refusal, with its length in bytes as llm_response_text_n. */
LLM_API const char *llm_response_refusal_n(const llm_response_t *response, size_t *len);
/* The first choice's tool calls as a JSON array in the OpenAI shape
 * ([{"id","type":"function","function":{"name","arguments"}}]), or NULL when
 * there are none. Borrowed. */
LLM_API const char *llm_response_tool_calls_json(const llm_response_t *response);
/* The model the provider says answered, or NULL. Borrowed. */
LLM_API const char *llm_response_model(const llm_response_t *response);
/* The provider's name ("openai", "groq", ...), or NULL. Borrowed. */
LLM_API const char *llm_response_provider(const llm_response_t *response);

/* Token counts; -1 when the provider did not report them (or response is NULL). */
LLM_API int64_t llm_response_prompt_tokens(const llm_response_t *response);
LLM_API int64_t llm_response_completion_tokens(const llm_response_t *response);
LLM_API int64_t llm_response_total_tokens(const llm_response_t *response);
/* prompt_tokens_details.cached_tokens; 0 when the provider reported usage
 * without it, -1 when it reported no usage. */
LLM_API int64_t llm_response_cached_tokens(const llm_response_t *response);
/* Bytes this call sent and received on the wire (HTTP headers and bodies, all
 * attempts); 0 for NULL. Over HTTP/2, headers count as their HTTP/1.1 text
 * (not the compressed HPACK frames) and frame overhead is not counted. */
LLM_API uint64_t llm_response_bytes_sent(const llm_response_t *response);
LLM_API uint64_t llm_response_bytes_received(const llm_response_t *response);

/* Frees a response and every string borrowed from it. NULL is a no-op. */
LLM_API void llm_response_free(llm_response_t *response);

/* ----------------------------------------------------------------- stream */

typedef struct llm_stream llm_stream_t;

/*
 * Starts a streamed chat: the same request as llm_chat ("stream" may be
 * absent or true; usage is always requested from providers that need
 * stream_options to send it). Returns once the request is submitted; the
 * HTTP status is known at the first llm_stream_next.
 * On success *out is a new stream the caller owns (llm_stream_free).
 */
LLM_API llm_status llm_chat_stream(llm_client_t *client, const char *request_json, llm_stream_t **out);
LLM_API llm_status llm_chat_stream_e(llm_client_t *client, const char *request_json, llm_stream_t **out,
                                     llm_error_t **error);

/*
 * Waits for the next chunk. On LLM_OK, *chunk_json is either an OpenAI
 * "chat.completion.chunk" object (for llm_call_stream's "responses.create",
 * a Responses API event instead; borrowed: valid until the next call on this
 * stream or llm_stream_free), or NULL: the stream has ended normally, and
 * every later call answers the same. Any other status is the stream's error
 * (an HTTP error, LLM_ERR_STREAMING for a cut or malformed stream,
 * LLM_ERR_TIMEOUT, LLM_ERR_LIMIT_EXCEEDED, LLM_ERR_CANCELLED); later calls
 * repeat it, whatever happens afterwards (a cancel included).
 * The stream ends the moment its end event arrives ("data: [DONE]"): nothing
 * the server sends after it is read, and a server that holds the connection
 * open, keeps sending or resets it afterwards changes nothing (the connection
 * is then closed rather than reused).
 * The last chunk before the end carries "usage" when the provider sent it.
 * While the reader lags by more than 8 MiB of chunks, the transfer pauses.
 */
LLM_API llm_status llm_stream_next(llm_stream_t *stream, const char **chunk_json);
LLM_API llm_status llm_stream_next_e(llm_stream_t *stream, const char **chunk_json, llm_error_t **error);

/* Cancels the stream: a blocked or later llm_stream_next answers
 * LLM_ERR_CANCELLED, unless llm_stream_next has already given the end or an
 * error (those stay). Safe from any thread, any number of times, even while
 * another thread is in llm_stream_next. The stream must still be freed. */
LLM_API void llm_stream_cancel(llm_stream_t *stream);

/* After the stream ended normally (llm_stream_next gave a NULL chunk): the
 * assembled response, the same JSON llm_chat would have given (content,
 * tool calls with their arguments joined, finish reason, usage), as a new
 * response the caller owns. Before the end: LLM_ERR_INVALID_ARGUMENT; after
 * an error: that error. */
LLM_API llm_status llm_stream_final_response(llm_stream_t *stream, llm_response_t **out);
LLM_API llm_status llm_stream_final_response_e(llm_stream_t *stream, llm_response_t **out, llm_error_t **error);

/* Cancels the stream if it is still running and frees it. NULL is a no-op. */
LLM_API void llm_stream_free(llm_stream_t *stream);

/* -------------------------------------------------------- callback forms */

/*
 * For event-loop callers (Node, GUI loops): the same calls, answered through
 * callbacks that run on the client's own I/O thread. A callback must return
 * quickly; it may call any function, including starting new requests
 * (llm_chat and llm_stream_next there fail with LLM_ERR_INVALID_ARGUMENT: they
 * would wait on the very thread they block, or on another loop of the client
 * that may be waiting on this one) and llm_client_free on its own
 * client (deferred until the callback returns; see llm_client_free).
 *
 * If the starting call returns anything but LLM_OK, no callback ever runs.
 * If it returns LLM_OK, the done callback runs exactly once, afterwards.
 *
 * `out_request_id` (may be NULL) receives an id for llm_client_cancel.
 */

/* Done callback of llm_chat_async. On LLM_OK, `response` is a new response
 * the callback now owns (free it with llm_response_free, then or later); on
 * failure it is NULL and `error_message` says why (borrowed, valid only during
 * the callback). */
typedef void (*llm_chat_done_cb)(llm_status status, llm_response_t *response,
                                 const char *error_message, void *user_data);

LLM_API llm_status llm_chat_async(llm_client_t *client, const char *request_json,
                                  llm_chat_done_cb on_done, void *user_data,
                                  uint64_t *out_request_id);

/* Done callback of the `_e` forms: as llm_chat_done_cb, with the error as an
 * object (NULL on LLM_OK; borrowed, valid only during the callback: keep a
 * copy with llm_error_clone). */
typedef void (*llm_chat_done_e_cb)(llm_status status, llm_response_t *response,
                                   const llm_error_t *error, void *user_data);

LLM_API llm_status llm_chat_async_e(llm_client_t *client, const char *request_json,
                                    llm_chat_done_e_cb on_done, void *user_data,
                                    uint64_t *out_request_id, llm_error_t **error);

/* Chunk callback of llm_chat_stream_async: `chunk_json` is borrowed for the
 * duration of the call. Return 0 to go on, non-zero to cancel the stream (the
 * done callback then runs with LLM_ERR_CANCELLED). */
typedef int (*llm_stream_chunk_cb)(const char *chunk_json, void *user_data);

LLM_API llm_status llm_chat_stream_async(llm_client_t *client, const char *request_json,
                                         llm_stream_chunk_cb on_chunk, llm_chat_done_cb on_done,
                                         void *user_data, uint64_t *out_request_id);
LLM_API llm_status llm_chat_stream_async_e(llm_client_t *client, const char *request_json,
                                           llm_stream_chunk_cb on_chunk, llm_chat_done_e_cb on_done,
                                           void *user_data, uint64_t *out_request_id,
                                           llm_error_t **error);
/* For llm_chat_stream_async the done callback's response, on LLM_OK, is the
 * assembled final response (as llm_stream_final_response). */

/* Cancels a request started by llm_chat_async or llm_chat_stream_async. Its
 * done callback runs with LLM_ERR_CANCELLED unless it had already run or is
 * running. An unknown or finished id is not an error. Any thread. */
LLM_API llm_status llm_client_cancel(llm_client_t *client, uint64_t request_id);
LLM_API llm_status llm_client_cancel_e(llm_client_t *client, uint64_t request_id, llm_error_t **error);

/* ------------------------------------------------------------ cancel tokens */

/*
 * A cancel token lets one thread end blocking calls that others are making
 * (llm_chat_cancellable, llm_call_cancellable): what a Go context, a .NET
 * CancellationToken or a user pressing "stop" needs, with the call still
 * running on its caller's thread (no thread hop, unlike an async call waited
 * for). Triggering a token cancels every call using it at that moment; a call
 * given a token that is already triggered fails at once. A token stays
 * triggered. One token may serve any number of calls, on any clients and
 * threads, at the same time.
 *
 * llm_cancel_new: *out is a new token the caller owns (NULL on failure:
 *   LLM_ERR_INVALID_ARGUMENT for a NULL `out`, LLM_ERR_OUT_OF_MEMORY).
 * llm_cancel_trigger: any thread, any time, any number of times (also from a
 *   callback). Each call using the token then ends with LLM_ERR_CANCELLED,
 *   unless its answer was already complete. Returns once the cancellations
 *   are queued, without waiting for the calls to return. LLM_ERR_INVALID_ARGUMENT
 *   for NULL.
 * llm_cancel_is_triggered: 1 once triggered, else 0 (0 for NULL).
 * llm_cancel_free: only once no call is using the token (every call given it
 *   has returned); NULL is ignored.
 */
typedef struct llm_cancel llm_cancel_t;

LLM_API llm_status llm_cancel_new(llm_cancel_t **out);
LLM_API llm_status llm_cancel_new_e(llm_cancel_t **out, llm_error_t **error);
LLM_API llm_status llm_cancel_trigger(llm_cancel_t *cancel);
LLM_API llm_status llm_cancel_trigger_e(llm_cancel_t *cancel, llm_error_t **error);
LLM_API int llm_cancel_is_triggered(const llm_cancel_t *cancel);
LLM_API void llm_cancel_free(llm_cancel_t *cancel);

/* llm_chat that `cancel` can end (see "cancel tokens"; NULL: exactly
 * llm_chat). Fails with LLM_ERR_CANCELLED when the token is triggered before
 * the call's answer is complete, including before it starts. Everything else
 * is as for llm_chat: same thread rules, same ownership of *out. */
LLM_API llm_status llm_chat_cancellable(llm_client_t *client, const char *request_json,
                                        llm_cancel_t *cancel, llm_response_t **out);
LLM_API llm_status llm_chat_cancellable_e(llm_client_t *client, const char *request_json,
                                          llm_cancel_t *cancel, llm_response_t **out,
                                          llm_error_t **error);

/* ------------------------------------------------------------ hosted I/O */

/*
 * A client made with "io": "host" has no I/O thread: the program runs the
 * client's loop from its own event loop (libuv, a GUI loop, epoll), so that
 * every callback runs on the program's own thread and an answer reaches it
 * with one thread wake-up instead of two (the I/O thread's, then the
 * program's). Everything else is as for any client: the same calls, from any
 * thread; llm_client_cancel and llm_client_free work the same.
 *
 * The program polls one descriptor for reading (llm_client_io_fd) and calls
 * llm_client_io_run when it is readable, and when the timeout that the last
 * llm_client_io_run gave has passed. The callbacks of async calls
 * (llm_chat_async, llm_chat_stream_async, llm_call_async,
 * llm_call_stream_async) run only inside llm_client_io_run, on its calling
 * thread, or inside llm_client_free (the cancellations it makes) or a
 * blocking call (below). A call started from another thread makes the
 * descriptor readable.
 *
 * Blocking calls (llm_chat, llm_call, llm_stream_next) on a hosted client run
 * the loop on the calling thread while they wait, when no other thread is
 * running it; callbacks of the client's other calls that become due meanwhile
 * then run on that thread. A program that only makes blocking calls needs no
 * event loop at all. llm_client_io_run takes the loop from a blocking call on
 * another thread that is running it (which waits meanwhile, and takes it
 * again afterwards if its answer has not come).
 */

/* The descriptor to poll for reading: readable when one of the client's
 * connections is ready or another thread queued work for the loop (and, once,
 * when the server closes an idle pooled connection). Owned by the client:
 * never read, write or close it; stop polling it before llm_client_free,
 * which closes it. The same for the client's whole life.
 * LLM_ERR_INVALID_ARGUMENT: a NULL argument (`*fd` is then -1), or a client
 * not made with "io": "host". */
LLM_API llm_status llm_client_io_fd(llm_client_t *client, int *fd);
LLM_API llm_status llm_client_io_fd_e(llm_client_t *client, int *fd, llm_error_t **error);

/* Runs the client's loop once, without blocking: sends and receives what is
 * ready, ends what is done or timed out, and runs every callback that is due,
 * on the calling thread, before it returns. `timeout_ms` (may be NULL)
 * receives when to call it again even if the descriptor stays quiet: -1 when
 * nothing is in flight (only the descriptor matters), 0 at once, else that
 * many milliseconds. 0 means more data is ready than one run hands over: run
 * it at the loop's next turn, after the loop has polled its other sources
 * (in libuv, an idle handle; a timer re-armed at 0 runs again in the same
 * timers phase, and a fast stream would starve the rest of the program).
 * When another thread runs the loop at that moment (a blocking call), it
 * waits up to 100 ms for that thread to let go at its next turn, and if it
 * has not, returns LLM_OK with -1: that thread makes the descriptor readable
 * when it lets go. A callback may free the client (llm_client_free: deferred,
 * done here before this returns); the client is then gone.
 * LLM_ERR_INVALID_ARGUMENT: a NULL client, a client not made with "io":
 * "host", or a call from inside one of the client's own callbacks. */
LLM_API llm_status llm_client_io_run(llm_client_t *client, int *timeout_ms);
LLM_API llm_status llm_client_io_run_e(llm_client_t *client, int *timeout_ms, llm_error_t **error);

/* ------------------------------------------------------ beyond chat */

/*
 * Calls any endpoint a provider offers, the same way llm_chat calls chat.
 *
 * `endpoint` is one of:
 *   "embeddings"            vectors for "input" (a string or a list)
 *   "models"                the provider's models, as OpenAI's model list
 *   "images.generations"    images for "prompt"
 *   "audio.speech"          speech for "input": the answer is audio bytes
 *   "audio.transcriptions", "audio.translations"
 *                           text for an audio "file" (an upload, below)
 *   "moderations"           categories and scores for "input"
 *   "rerank"                "documents" ordered by relevance to "query"
 *   "search"                web results for "query"
 *   "ocr"                   a document's pages as markdown
 *   "files.create", "files.retrieve", "files.list", "files.delete",
 *   "files.content"         (the content's answer is bytes)
 *   "batches.create", "batches.retrieve", "batches.list", "batches.cancel"
 *   "responses.create", "responses.retrieve", "responses.cancel",
 *   "responses.delete"      OpenAI's Responses API
 *   "chat"                  as llm_chat
 * An unknown name fails with LLM_ERR_INVALID_ARGUMENT naming it.
 *
 * `request_json` is the endpoint's request in OpenAI's shape (its API
 * reference names the fields), plus:
 *   "model"      "provider/model" routes as in llm_chat;
 *   "provider"   a provider's name or alias, for an endpoint that takes no
 *                model ("models", "files.list", "search", ...) or to send
 *                "model" as it is;
 *   ids          "file_id", "batch_id", "response_id" for the endpoints that
 *                act on one;
 *   "timeout_secs", "extra_headers", "provider_options", "extra_body" as in
 *                llm_chat.
 * Without "model" or "provider" the call goes to the client's model_hint
 * provider. A provider that has no such endpoint fails with
 * LLM_ERR_ENDPOINT_NOT_SUPPORTED naming the provider and the endpoint, before
 * anything is sent (llm_providers_json lists each provider's "endpoints").
 * Fields are checked before anything is sent, as llm_chat checks its own:
 * required ones, types, enumerated values and bounds, each failure with
 * LLM_ERR_INVALID_ARGUMENT naming the field; fields not named in the
 * endpoint's reference pass through to the provider.
 *
 * Uploads. A field that takes a file ("file" of the audio endpoints and of
 * files.create) is an object: {"path": "/x/a.mp3"} reads the file as it is
 * sent (never loaded whole), or {"data": I} sends the I-th of the call's
 * `data` buffers (data[I], data_sizes[I] bytes) without a copy; either may
 * add "filename" (the name the provider is told; a path's last component by
 * default, required with "data") and "content_type" (by default from the
 * filename's extension). The arrays `data` and `data_sizes` (NULL when
 * `data_count` is 0) are read during this call only; the bytes they point to
 * must stay valid and unchanged until the call ends (llm_call returns; the
 * done callback of llm_call_async runs). A file that does not exist or
 * cannot be read, a type the endpoint does not take (audio for the audio
 * endpoints), or one larger than the provider accepts (25 MB of audio for
 * OpenAI, 512 MB for a file) fails with LLM_ERR_INVALID_ARGUMENT naming the
 * field and the path, before anything is sent. OCR's "document" takes the
 * same two forms besides Mistral's own ({"type": "document_url", ...}): the
 * library sends the bytes as a base64 data URL (so they are read whole into
 * the request body), typed by "content_type" or the name's extension (pdf,
 * docx, pptx, png, jpeg, webp, gif, avif, tiff, bmp; 50 MB at most).
 *
 * On success *out is a new response the caller owns (llm_response_free). Its
 * JSON (llm_response_json) is the endpoint's answer in OpenAI's shape plus
 * "provider" and "stats" (as llm_chat's): for embeddings {"object": "list",
 * "data": [{"object": "embedding", "index", "embedding": [floats]}], "model",
 * "usage"} whatever the provider (base64 answers decoded to floats: held as
 * float32 values only, not as JSON, until llm_response_json is first asked,
 * which writes each as the shortest text that reads back as that float); for a
 * binary answer (audio.speech, files.content) {"object": "binary",
 * "content_type", "bytes": length} with the bytes in llm_response_bytes; a
 * transcription or translation asked as "text", "srt" or "vtt" {"text": the
 * provider's text}; for models {"object": "list", "data": [{"id", "object":
 * "model", "created", "owned_by"}]}; for rerank {"object": "list",
 * "results": [{"index", "relevance_score", "document"?}]} most relevant
 * first, "document" ({"text"}) present exactly when the request set
 * "return_documents": true; for ocr the provider's answer as it is ({"pages":
 * [{"index", "markdown", "images", "dimensions"}], "model", "usage_info"});
 * for search {"object": "search.results", "query", "results":
 * [{"title", "url", "snippet", "published_at"?, "score"?}]}.
 * Blocks the calling thread; thread-safe; must not be called from one of this
 * client's callbacks (LLM_ERR_INVALID_ARGUMENT: use llm_call_async).
 */
LLM_API llm_status llm_call(llm_client_t *client, const char *endpoint, const char *request_json,
                            const void *const *data, const size_t *data_sizes, size_t data_count,
                            llm_response_t **out);
LLM_API llm_status llm_call_e(llm_client_t *client, const char *endpoint, const char *request_json,
                              const void *const *data, const size_t *data_sizes, size_t data_count,
                              llm_response_t **out, llm_error_t **error);

/* llm_call that `cancel` can end, as llm_chat_cancellable is llm_chat (NULL:
 * exactly llm_call). */
LLM_API llm_status llm_call_cancellable(llm_client_t *client, const char *endpoint,
                                        const char *request_json, const void *const *data,
                                        const size_t *data_sizes, size_t data_count,
                                        llm_cancel_t *cancel, llm_response_t **out);
LLM_API llm_status llm_call_cancellable_e(llm_client_t *client, const char *endpoint,
                                          const char *request_json, const void *const *data,
                                          const size_t *data_sizes, size_t data_count,
                                          llm_cancel_t *cancel, llm_response_t **out,
                                          llm_error_t **error);

/* As llm_call, answered through `on_done` on the client's I/O thread (see
 * "callback forms" above: the same rules; llm_client_cancel cancels it by
 * the id written to `out_request_id`). */
LLM_API llm_status llm_call_async(llm_client_t *client, const char *endpoint, const char *request_json,
                                  const void *const *data, const size_t *data_sizes, size_t data_count,
                                  llm_chat_done_cb on_done, void *user_data, uint64_t *out_request_id);
LLM_API llm_status llm_call_async_e(llm_client_t *client, const char *endpoint, const char *request_json,
                                    const void *const *data, const size_t *data_sizes, size_t data_count,
                                    llm_chat_done_e_cb on_done, void *user_data, uint64_t *out_request_id,
                                    llm_error_t **error);

/*
 * A streamed call, read as llm_chat_stream's stream is (llm_stream_next,
 * llm_stream_cancel, llm_stream_final_response, llm_stream_free). Endpoints
 * that stream: "chat" (exactly llm_chat_stream) and "responses.create" (the
 * OpenAI Responses API with "stream": true, which may be absent here). Any
 * other endpoint fails with LLM_ERR_INVALID_ARGUMENT naming it; so does a
 * request with "stream": false.
 * For "responses.create" each chunk is one of the API's typed events, passed
 * through as the provider sent it: a JSON object with "type"
 * ("response.created", "response.output_text.delta",
 * "response.function_call_arguments.delta", ..., "response.completed") and
 * "sequence_number". The stream ends after "response.completed" or
 * "response.incomplete" (a token budget ran out: not an error), and
 * llm_stream_final_response then gives that event's "response" object (plus
 * "provider" and "stats"), as llm_call("responses.create") would have. A
 * "response.failed" or "error" event is the stream's error, with the status
 * its code says (LLM_ERR_STREAMING for a server failure), and so is a stream
 * that ends before its terminal event.
 * `data`: as llm_call's, read until the call ends. On success *out is a new
 * stream the caller owns (llm_stream_free). Thread-safe.
 */
LLM_API llm_status llm_call_stream(llm_client_t *client, const char *endpoint, const char *request_json,
                                   const void *const *data, const size_t *data_sizes, size_t data_count,
                                   llm_stream_t **out);
LLM_API llm_status llm_call_stream_e(llm_client_t *client, const char *endpoint, const char *request_json,
                                     const void *const *data, const size_t *data_sizes, size_t data_count,
                                     llm_stream_t **out, llm_error_t **error);

/* As llm_call_stream, through callbacks on the client's I/O thread (the rules
 * of llm_chat_stream_async: each chunk to `on_chunk`, which may be NULL;
 * `on_done` runs once with the final response on LLM_OK). `data` must stay
 * valid until `on_done` has run. */
LLM_API llm_status llm_call_stream_async(llm_client_t *client, const char *endpoint, const char *request_json,
                                         const void *const *data, const size_t *data_sizes, size_t data_count,
                                         llm_stream_chunk_cb on_chunk, llm_chat_done_cb on_done, void *user_data,
                                         uint64_t *out_request_id);
LLM_API llm_status llm_call_stream_async_e(llm_client_t *client, const char *endpoint, const char *request_json,
                                           const void *const *data, const size_t *data_sizes, size_t data_count,
                                           llm_stream_chunk_cb on_chunk, llm_chat_done_e_cb on_done,
                                           void *user_data, uint64_t *out_request_id, llm_error_t **error);

/* What llm_call would send, without sending it: as llm_preview_request (a
 * request with "stream": true previews llm_call_stream's request), and
 * for a multipart upload "parts": [{"name", "value"} for a plain field,
 * {"name", "filename", "content_type", "bytes", "path"} for a file] (the
 * file's bytes are not read). Caller owns *out (llm_string_free). */
LLM_API llm_status llm_preview_call(llm_client_t *client, const char *endpoint, const char *request_json,
                                    const void *const *data, const size_t *data_sizes, size_t data_count,
                                    char **out);
LLM_API llm_status llm_preview_call_e(llm_client_t *client, const char *endpoint, const char *request_json,
                                      const void *const *data, const size_t *data_sizes, size_t data_count,
                                      char **out, llm_error_t **error);

/* A binary answer's bytes (audio.speech, files.content), writing their length
 * to *len when len is not NULL; NULL (and 0) for a JSON answer or NULL.
 * Borrowed from `response`. */
LLM_API const void *llm_response_bytes(const llm_response_t *response, size_t *len);
/* A binary answer's Content-Type ("audio/mpeg", ...), or NULL. Borrowed. */
LLM_API const char *llm_response_content_type(const llm_response_t *response);
/* An embeddings answer's vectors as one row-major array of *count vectors of
 * *dimensions floats each (vector i at i * dimensions, in input order): no
 * JSON to parse. Made on first use, or already made when the provider
 * answered in base64 (OpenAI, Azure OpenAI: the library asks for it unless
 * the request sets "encoding_format"). NULL (and 0, 0) when the response holds no
 * vectors of one length, or when memory runs out (the thread's last error then
 * says so). Borrowed from `response`; either out pointer may be NULL. */
LLM_API const float *llm_response_embeddings(const llm_response_t *response, size_t *count, size_t *dimensions);

/* ---------------------------------------------------------- inspection */

/*
 * What llm_chat (stream = 0) or llm_chat_stream (stream = 1) would send,
 * without sending it: a JSON object {"provider", "method", "url", "headers":
 * {name: value}, "body"} where "body" is the exact request body text. Every
 * credential header value is replaced by "[REDACTED]". The request is checked
 * exactly as llm_chat checks it. On success *out is a string the caller owns
 * (llm_string_free).
 */
LLM_API llm_status llm_preview_request(llm_client_t *client, const char *request_json, int stream,
                                       char **out);
LLM_API llm_status llm_preview_request_e(llm_client_t *client, const char *request_json, int stream,
                                         char **out, llm_error_t **error);

/* The providers this client knows, as a JSON array of {"name", "aliases",
 * "base_url", "auth", "api_key_env", "prefixes", "protocol", "settings",
 * "registered", "endpoints"}, registered ones first. "endpoints" lists the
 * llm_call endpoint names the provider serves ("chat", "embeddings", ...). "protocol" is the wire protocol the
 * provider speaks ("openai", "anthropic", "gemini", "vertex_ai", "bedrock",
 * "cohere"); "auth" is "bearer", "header:<name>", "none" or "signed" (the
 * protocol signs each request: SigV4, Google OAuth); "settings" names the
 * provider's own config fields (see llm_client_new). A NULL client lists the
 * global table. Caller owns *out (llm_string_free). */
LLM_API llm_status llm_providers_json(llm_client_t *client, char **out);
LLM_API llm_status llm_providers_json_e(llm_client_t *client, char **out, llm_error_t **error);

/* ------------------------------------------------------------ providers */

/*
 * Registers an OpenAI-compatible provider, consulted before the built-in
 * ones. With a client, for that client only; with NULL, for every client
 * created afterwards (and those alive, which have not overridden the name).
 * `provider_json`:
 *   "name":        string, required, non-empty; also a model prefix
 *   "base_url":    string, required, http:// or https:// (".../v1")
 *   "prefixes":    array of non-empty strings, required, at least one
 *                  (a model "prefix/model" routes here)
 *   "auth":        "bearer" (default) | "none" | {"header": "x-api-key"}
 *                  (the key is sent raw in that header)
 *   "api_key":     string, optional
 *   "api_key_env": string, optional: environment variable holding the key
 *   "headers":     object, optional: extra headers
 * Registering a name again replaces it. Invalid input fails with
 * LLM_ERR_INVALID_ARGUMENT naming the field (a header, or an auth header name,
 * that cannot be sent: LLM_ERR_INVALID_HEADER; see llm_client_new for the
 * rules of headers, base URLs and secrets). Thread-safe.
 */
LLM_API llm_status llm_register_provider(llm_client_t *client, const char *provider_json);
LLM_API llm_status llm_register_provider_e(llm_client_t *client, const char *provider_json,
                                           llm_error_t **error);

/* Removes a provider registered with llm_register_provider (on that client,
 * or globally with NULL). Built-in providers cannot be removed. An unknown
 * name fails with LLM_ERR_NOT_FOUND. Thread-safe. */
LLM_API llm_status llm_unregister_provider(llm_client_t *client, const char *name);
LLM_API llm_status llm_unregister_provider_e(llm_client_t *client, const char *name, llm_error_t **error);

#ifdef __cplusplus
}
#endif

#endif /* LITERLLM_H */
