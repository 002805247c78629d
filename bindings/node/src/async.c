/* The callback forms (llm_chat_async[_e], llm_chat_stream_async[_e], llm_call_async[_e],
 * llm_call_stream_async[_e]) of the raw layer, llm_string_free, and the
 * idiomatic layer's internal entry points (exports._internal: setup, chat,
 * stream, call, callStream, attach, detach).
 *
 * Two ways for the library's callbacks to reach JS:
 *
 * - A threaded client (the raw layer's, or "io": "thread") calls back on its
 *   I/O thread; each callback copies what it got and queues it, without
 *   blocking, on the environment's one thread-safe function; the events run on
 *   the JS thread in order. That function is referenced (keeps the loop alive)
 *   only while requests are in flight.
 *
 * - A hosted client ("io": "host", the idiomatic Client's default) has a
 *   driver (attach): a uv_poll_t on the client's descriptor, a uv_timer_t
 *   and a uv_idle_t on the environment's loop, which run llm_client_io_run on
 *   the JS thread (the idle handle when it asks to run again at once: a zero
 *   timer would run again within the same timers phase, and a fast stream
 *   would starve the loop's I/O, its immediates and a worker's terminate).
 *   The callbacks then run inside llm_client_io_run; they queue the very same
 *   events on the driver's local list instead (no JS is called from inside the
 *   library's loop), and the driver runs that list once llm_client_io_run has
 *   returned, inside one callback scope (promise reactions run when it
 *   closes). An event posted while the driver is not running (the
 *   cancellations of llm_client_free, outside of a driver's run) goes to the
 *   thread-safe function as for a threaded client. The driver's handles are
 *   referenced only while the client has requests in flight; they are closed
 *   (detach) before the client is freed, and by an async cleanup hook when the
 *   environment ends.
 *
 * Stream chunks are batched: the chunk callback appends its chunk to the
 * request's pending batch (under the request's lock) and queues an event only
 * when none is queued already; the JS thread takes the whole batch at once.
 * The raw layer still calls its on_chunk once per chunk (in order, none after
 * one returned truthy); the idiomatic layer gets a batch as one JSON array
 * text "[c1,c2,...]" per block of the batch (one JSON.parse each). A batch is
 * a chain of blocks of 32 KiB (a larger chunk gets a block of its own); emptied
 * blocks go to a process-wide pool: no copy but the one of each chunk, no
 * fresh (page-faulting) memory per batch or per stream, and strings V8 makes
 * in its young generation. Nothing ever blocks the I/O thread: a batch the JS
 * thread does not take (it is busy) keeps growing, one block after another
 * (see README, "Streams"). A hosted client reads only when the JS thread runs
 * its loop, so there a busy JS thread simply leaves the data in the sockets.
 *
 * The idiomatic layer's chat returns a promise made here: the callback makes
 * the response's JSON and frees the response; the JS thread makes one string,
 * JSON.parse, and resolves (or rejects with the error its factory makes from
 * the error object's fields). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "support.h"

/* libuv (the loop Node runs): its header when the include path has it, else
 * the few declarations used here, from libuv's stable 1.x ABI. Handles are
 * allocated with uv_handle_size, so their layout never matters here. */
#if defined(__has_include)
#if __has_include(<uv.h>)
#include <uv.h>
#define LLN_HAVE_UV_H 1
#endif
#endif
#ifndef LLN_HAVE_UV_H
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;
typedef struct uv_timer_s uv_timer_t;
typedef struct uv_idle_s uv_idle_t;
typedef void (*uv_close_cb)(uv_handle_t *handle);
typedef void (*uv_poll_cb)(uv_poll_t *handle, int status, int events);
typedef void (*uv_timer_cb)(uv_timer_t *handle);
typedef void (*uv_idle_cb)(uv_idle_t *handle);
typedef enum { UV_IDLE = 6, UV_POLL = 8, UV_TIMER = 13 } uv_handle_type;
enum { UV_READABLE = 1 };
size_t uv_handle_size(uv_handle_type type);
void *uv_handle_get_data(const uv_handle_t *handle);
void uv_handle_set_data(uv_handle_t *handle, void *data);
void uv_ref(uv_handle_t *handle);
void uv_unref(uv_handle_t *handle);
void uv_close(uv_handle_t *handle, uv_close_cb close_cb);
int uv_poll_init(uv_loop_t *loop, uv_poll_t *handle, int fd);
int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb);
int uv_poll_stop(uv_poll_t *handle);
int uv_timer_init(uv_loop_t *loop, uv_timer_t *handle);
int uv_timer_start(uv_timer_t *handle, uv_timer_cb cb, uint64_t timeout, uint64_t repeat);
int uv_timer_stop(uv_timer_t *handle);
int uv_idle_init(uv_loop_t *loop, uv_idle_t *handle);
int uv_idle_start(uv_idle_t *handle, uv_idle_cb cb);
int uv_idle_stop(uv_idle_t *handle);
#endif

#define LLN_BLOCK (((size_t)32 << 10) - 64) /* the data of a batch block */
#define LLN_POOL_BLOCKS 64                 /* emptied blocks kept for reuse, process-wide (2 MiB) */

struct lln_req;
struct lln_event;
struct lln_envdata;

/* The driver of a hosted client in one environment (JS-thread only, but for
 * `thread`, read by post_event on whatever thread a callback runs). */
typedef struct lln_driver {
  napi_env env;
  struct lln_envdata *ed;
  llm_client_t *client;
  pthread_t thread;        /* the environment's JS thread */
  uv_poll_t *poll;         /* uv_handle_size(UV_POLL) bytes */
  uv_timer_t *timer;
  uv_idle_t *idle;         /* active while llm_client_io_run asks to run again at once */
  napi_ref resource;       /* the async resource of the callback scope */
  napi_async_context actx;
  napi_async_cleanup_hook_handle hook; /* closes the handles when the environment ends */
  int in_flight;           /* requests of the client not ended yet: the handles are referenced while > 0 */
  int active;              /* inside drv_run: events go to the local list */
  int closing;             /* the handles are closing (detach, or the environment ends) */
  int closed;              /* close callbacks that ran (freed at LLN_DRV_HANDLES, once in_flight is 0) */
  struct lln_event *q_head, *q_tail; /* events posted during drv_run, run once llm_client_io_run returned */
  struct lln_driver *next; /* the envdata's drivers */
} lln_driver;

/* Per environment (main thread or worker). JS-thread only. */
typedef struct lln_envdata {
  napi_threadsafe_function tsfn; /* NULL until the first request, and after teardown */
  int in_flight;
  int hooked;            /* the environment's cleanup hook is registered */
  struct lln_req *head;  /* requests in flight (the cleanup hook cancels them) */
  lln_driver *drivers;   /* the hosted clients' drivers (attach) */
  napi_ref make_error;   /* set by _internal.setup */
  napi_ref json;         /* JSON, JSON.parse */
  napi_ref json_parse;
  napi_ref id_slot_ref;  /* Float64Array(1): the id of the last _internal.chat */
  double *id_slot;
} lln_envdata;

enum { K_RAW_CHAT, K_RAW_STREAM, K_PROMISE_CHAT, K_FAST_STREAM, K_PROMISE_CALL };
enum { EV_BATCH, EV_DONE };

typedef struct lln_event {
  int type;
  struct lln_req *req;
  struct lln_event *qnext;   /* a driver's local list */
  llm_status status;
  char *text;                /* plain forms: the error message; fast kinds: the response's JSON */
  llm_response_t *response;  /* raw forms */
  llm_error_t *error;
} lln_event;

/* A block of a batch. Raw: NUL-terminated chunks. Fast stream: one JSON
 * array text "[c1,c2,..." closed with "]\0" when full or taken (room for
 * those two bytes is always kept). */
typedef struct lln_block {
  struct lln_block *next;
  size_t len, cap;
  int closed;
  char data[];
} lln_block;

typedef struct lln_req {
  int kind;
  int error_object;  /* raw _e form: the done callback gets an error handle */
  napi_ref on_chunk; /* raw: on_chunk; fast stream: on_batch */
  napi_ref on_done;
  napi_ref keep;     /* keeps the client (its External, or the Client object) alive while in flight */
  napi_ref signal;   /* fast kinds: the AbortSignal (for the CancelledError's cause) */
  napi_ref uploads;  /* llm_call: an array of the upload buffers, alive until the done callback ran */
  napi_deferred deferred; /* promise chat */
  napi_threadsafe_function tsfn;
  lln_driver *drv;   /* a hosted client's driver (NULL: threaded, or orphaned at teardown) */
  /* Teardown of the environment (a worker ending) with the request in flight:
   * the environment's cleanup hook cancels it and waits for the done callback,
   * so the I/O thread never touches a thread-safe function the environment
   * has freed. */
  llm_client_t *client_c;
  uint64_t id;
  struct lln_req *prev, *next; /* the envdata's in-flight list */
  int listed;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  /* under mu */
  int done_posted;
  int refs; /* the I/O side, the JS side, and one per queued batch event; freed at 0 */
  int stop; /* no more chunks: JS's on_chunk returned truthy, or nobody will take them */
  int batch_posted; /* a batch event is queued and the JS thread has not taken it yet */
  int orphan; /* hosted, its environment ended before its end: its callbacks queue nothing */
  lln_block *first, *last; /* the pending batch: chunks the JS thread has not taken */
  /* The events it queues, part of it: queuing never allocates, and running
   * out of memory cannot lose the end. */
  lln_event batch_ev;
  lln_event done_ev;
} lln_req;

static void event_clear(lln_event *ev) {
  free(ev->text);
  ev->text = NULL;
  llm_response_free(ev->response);
  ev->response = NULL;
  llm_error_free(ev->error);
  ev->error = NULL;
}

/* Emptied blocks of the usual size, for any request of any environment. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static lln_block *pool;
static int pool_n;

static lln_block *block_get(size_t need) {
  lln_block *b = NULL;
  if (need <= LLN_BLOCK) {
    pthread_mutex_lock(&pool_mu);
    b = pool;
    if (b != NULL) {
      pool = b->next;
      pool_n--;
    }
    pthread_mutex_unlock(&pool_mu);
    if (b != NULL) return b;
  }
  size_t cap = need > LLN_BLOCK ? need : LLN_BLOCK;
  b = malloc(sizeof *b + cap);
  if (b != NULL) b->cap = cap;
  return b;
}

/* Gives a list of blocks back: to the pool (up to LLN_POOL_BLOCKS), else freed. */
static void blocks_put(lln_block *list) {
  lln_block *drop = NULL;
  if (list == NULL) return;
  pthread_mutex_lock(&pool_mu);
  while (list != NULL) {
    lln_block *next = list->next;
    if (list->cap == LLN_BLOCK && pool_n < LLN_POOL_BLOCKS) {
      list->next = pool;
      pool = list;
      pool_n++;
    } else {
      list->next = drop;
      drop = list;
    }
    list = next;
  }
  pthread_mutex_unlock(&pool_mu);
  while (drop != NULL) {
    lln_block *next = drop->next;
    free(drop);
    drop = next;
  }
}

static void req_unref(lln_req *req) {
  pthread_mutex_lock(&req->mu);
  int left = --req->refs;
  pthread_mutex_unlock(&req->mu);
  if (left == 0) {
    event_clear(&req->done_ev);
    blocks_put(req->first);
    pthread_mutex_destroy(&req->mu);
    pthread_cond_destroy(&req->cv);
    free(req);
  }
}

/* The JS side lets the request go (env NULL: the environment is gone). */
static void req_release_js(napi_env env, lln_req *req) {
  if (env != NULL) {
    if (req->on_chunk) napi_delete_reference(env, req->on_chunk);
    if (req->on_done) napi_delete_reference(env, req->on_done);
    if (req->keep) napi_delete_reference(env, req->keep);
    if (req->signal) napi_delete_reference(env, req->signal);
    if (req->uploads) napi_delete_reference(env, req->uploads);
  }
  req_unref(req);
}

static char *dup_str(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s);
  char *d = malloc(n + 1);
  if (d != NULL) memcpy(d, s, n + 1);
  return d;
}

static napi_value ref_value(napi_env env, napi_ref r) {
  napi_value v = NULL;
  if (r != NULL) napi_get_reference_value(env, r, &v);
  return v;
}

/* A JS callback threw: report it as an uncaught exception (as it would have
 * been had it run alone in its own event), and go on. */
static void rethrow_uncaught(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value e;
    if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
  }
}

/* ------------------------------------------------------------ drivers (counting) */

#define LLN_DRV_HANDLES 3 /* poll, timer, idle */

static uv_handle_t *drv_handle(lln_driver *d, int i) {
  return i == 0 ? (uv_handle_t *)d->poll : i == 1 ? (uv_handle_t *)d->timer : (uv_handle_t *)d->idle;
}

static void drv_free(lln_driver *d) {
  free(d->poll);
  free(d->timer);
  free(d->idle);
  free(d);
}

static void drv_maybe_free(lln_driver *d) {
  if (d->closed < LLN_DRV_HANDLES || d->in_flight > 0) return;
  drv_free(d);
}

static void drv_handles_ref(lln_driver *d, int on) {
  if (d->closing) return;
  for (int i = 0; i < LLN_DRV_HANDLES; i++) {
    if (on) uv_ref(drv_handle(d, i));
    else uv_unref(drv_handle(d, i));
  }
}

static void drv_request_started(lln_driver *d) {
  if (d->in_flight++ == 0) drv_handles_ref(d, 1);
}

static void drv_request_ended(lln_driver *d) {
  if (--d->in_flight > 0) return;
  drv_handles_ref(d, 0);
  drv_maybe_free(d);
}

/* Env cleanup hook (one per environment): cancel every request in flight of a
 * threaded client, then wait (at most 2 s in all) for their done callbacks.
 * A hosted client's callbacks run only on this thread: in a driver's run
 * (there is none any more) or in llm_client_free (when the client's External
 * is finalized, later in this teardown); its requests are orphaned: their
 * callbacks then queue nothing. */
static void env_cleanup(void *arg) {
  lln_envdata *ed = arg;
  ed->hooked = 0;
  for (lln_req *r = ed->head; r != NULL; r = r->next) {
    pthread_mutex_lock(&r->mu);
    int posted = r->done_posted;
    if (r->drv != NULL && !posted) r->orphan = 1;
    pthread_mutex_unlock(&r->mu);
    if (r->drv != NULL) {
      lln_driver *d = r->drv;
      r->drv = NULL;
      drv_request_ended(d);
      continue;
    }
    /* Posted: over, and its client may be freed already (llm_client_free runs
     * the callbacks before it returns, on this very thread). */
    if (!posted) llm_client_cancel(r->client_c, r->id);
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  int timed_out = 0;
  for (lln_req *r = ed->head; r != NULL; r = r->next) {
    pthread_mutex_lock(&r->mu);
    while (!r->done_posted && !r->orphan && !timed_out)
      if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) timed_out = 1;
    pthread_mutex_unlock(&r->mu);
  }
  for (lln_req *r = ed->head; r != NULL; r = r->next) r->listed = 0;
  ed->head = NULL; /* the rest happens in the thread-safe function's teardown (env NULL) */
}

static void list_remove(lln_envdata *ed, lln_req *req) {
  if (!req->listed) return;
  if (req->prev) req->prev->next = req->next;
  else ed->head = req->next;
  if (req->next) req->next->prev = req->prev;
  req->prev = req->next = NULL;
  req->listed = 0;
}

static void request_ended(napi_env env, lln_envdata *ed, lln_req *req) {
  list_remove(ed, req);
  if (req->drv != NULL) {
    lln_driver *d = req->drv;
    req->drv = NULL;
    drv_request_ended(d);
  }
  if (--ed->in_flight == 0 && ed->tsfn != NULL) napi_unref_threadsafe_function(env, ed->tsfn);
}

/* ------------------------------------------------------------ batches */

static void block_close(lln_req *req, lln_block *b) {
  if (b->closed) return;
  b->closed = 1;
  if (req->kind == K_FAST_STREAM) {
    b->data[b->len++] = ']';
    b->data[b->len++] = '\0';
  }
}

/* Under req->mu: appends a chunk to the pending batch. */
static int append_chunk(lln_req *req, const char *chunk, size_t n) {
  size_t need = n + 3; /* '[' or ',', and "]\0" (raw: '\0') */
  lln_block *b = req->last;
  if (b == NULL || b->closed || b->cap - b->len < need) {
    if (b != NULL) block_close(req, b);
    b = block_get(need);
    if (b == NULL) return 0;
    b->next = NULL;
    b->len = 0;
    b->closed = 0;
    if (req->last) req->last->next = b;
    else req->first = b;
    req->last = b;
  }
  if (req->kind == K_RAW_STREAM) {
    memcpy(b->data + b->len, chunk, n);
    b->len += n;
    b->data[b->len++] = '\0';
  } else {
    char sep = b->len == 0 ? '[' : ',';
    b->data[b->len++] = sep;
    memcpy(b->data + b->len, chunk, n);
    b->len += n;
  }
  return 1;
}

/* JS thread: takes the pending batch and hands its strings to JS (raw:
 * on_chunk per chunk until one returns truthy; fast: on_batch per block). */
static void deliver_batch(napi_env env, lln_req *req) {
  pthread_mutex_lock(&req->mu);
  lln_block *list = req->first;
  req->first = req->last = NULL;
  req->batch_posted = 0;
  pthread_mutex_unlock(&req->mu);
  if (list == NULL) return;

  napi_value fn = ref_value(env, req->on_chunk);
  napi_value undef = lln_undefined(env);
  int raw = req->kind == K_RAW_STREAM;
  for (lln_block *b = list; b != NULL && fn != NULL; b = b->next) {
    block_close(req, b);
    for (char *p = b->data, *end = b->data + b->len; p < end;) {
      size_t n = strlen(p);
      if (raw && req->stop) break; /* JS asked to stop: no chunk after that one */
      napi_value arg = NULL, ret = NULL;
      napi_create_string_utf8(env, p, n, &arg);
      if (napi_call_function(env, undef, fn, 1, &arg, &ret) != napi_ok) {
        rethrow_uncaught(env);
      } else if (raw && ret != NULL) {
        bool stop = false;
        napi_value v;
        if (napi_coerce_to_bool(env, ret, &v) == napi_ok && napi_get_value_bool(env, v, &stop) == napi_ok && stop) {
          pthread_mutex_lock(&req->mu);
          req->stop = 1;
          pthread_mutex_unlock(&req->mu);
        }
      }
      p += n + 1;
    }
  }
  blocks_put(list);
}

/* ------------------------------------------------------------ errors */

/* The idiomatic layer's error for a status and an error object (may be NULL),
 * made by its factory; `signal` (may be NULL) becomes the error's cause. On
 * failure, the exception it threw. */
static napi_value make_error(napi_env env, lln_envdata *ed, llm_status status, const llm_error_t *e,
                             napi_value signal) {
  napi_value fn = ref_value(env, ed->make_error);
  napi_value argv[9];
  llm_status es = llm_error_status(e);
  argv[0] = lln_int32(env, (int32_t)(es != LLM_OK ? es : status));
  argv[1] = lln_string(env, e != NULL ? llm_error_message(e) : NULL);
  argv[2] = lln_int32(env, llm_error_http_status(e));
  argv[3] = lln_string(env, llm_error_provider(e));
  argv[4] = lln_string(env, llm_error_code(e));
  argv[5] = lln_string(env, llm_error_type(e));
  napi_create_double(env, (double)llm_error_retry_after_ms(e), &argv[6]);
  argv[7] = lln_int32(env, llm_error_retries(e));
  argv[8] = signal != NULL ? signal : lln_undefined(env);
  napi_value result = NULL;
  if (fn == NULL || napi_call_function(env, lln_undefined(env), fn, 9, argv, &result) != napi_ok || result == NULL) {
    napi_get_and_clear_last_exception(env, &result);
    if (result == NULL) result = lln_undefined(env);
  }
  return result;
}

/* ------------------------------------------------------------ the JS thread */

/* The end of a fast request (promise chat, fast stream). */
static void done_fast(napi_env env, lln_envdata *ed, lln_req *req) {
  lln_event *ev = &req->done_ev;
  llm_status status = ev->status;
  char *response_json = ev->text;
  llm_error_t *error = ev->error;
  llm_response_t *response = ev->response; /* promise call: resolved as a handle */
  ev->text = NULL;
  ev->error = NULL;
  ev->response = NULL;
  int kind = req->kind;
  napi_deferred deferred = req->deferred;
  req->deferred = NULL;
  napi_value done_fn = kind == K_FAST_STREAM ? ref_value(env, req->on_done) : NULL;
  napi_value signal = status == LLM_ERR_CANCELLED ? ref_value(env, req->signal) : NULL;
  req_release_js(env, req); /* the request is over: its references go before user code runs */

  napi_value value = NULL, err = NULL;
  if (kind == K_PROMISE_CALL) {
    if (status == LLM_OK && response != NULL) value = lln_wrap_handle(env, LLN_H_llm_response_t, response);
    else {
      llm_response_free(response);
      err = make_error(env, ed, status == LLM_OK ? LLM_ERR_INTERNAL : status, error, signal);
    }
  } else if (status == LLM_OK && response_json != NULL) {
    napi_value text = NULL;
    napi_create_string_utf8(env, response_json, NAPI_AUTO_LENGTH, &text);
    if (kind == K_FAST_STREAM) {
      value = text;
    } else if (napi_call_function(env, ref_value(env, ed->json), ref_value(env, ed->json_parse), 1, &text, &value) !=
               napi_ok) {
      napi_get_and_clear_last_exception(env, &err);
      value = NULL;
    }
  } else {
    err = make_error(env, ed, status == LLM_OK ? LLM_ERR_OUT_OF_MEMORY : status, error, signal);
  }
  free(response_json);
  llm_error_free(error);
  if (kind == K_PROMISE_CHAT || kind == K_PROMISE_CALL) {
    if (err != NULL) napi_reject_deferred(env, deferred, err);
    else napi_resolve_deferred(env, deferred, value);
  } else if (done_fn != NULL) {
    napi_value argv[3];
    argv[0] = lln_int32(env, (int32_t)(err != NULL && status == LLM_OK ? LLM_ERR_OUT_OF_MEMORY : status));
    argv[1] = value != NULL ? value : lln_string(env, NULL);
    argv[2] = err != NULL ? err : lln_undefined(env);
    if (napi_call_function(env, lln_undefined(env), done_fn, 3, argv, NULL) != napi_ok) rethrow_uncaught(env);
  }
}

/* Runs on the JS thread (env NULL when the environment is going away). */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  lln_envdata *ed = context;
  lln_event *ev = data;
  lln_req *req = ev->req;
  if (env == NULL) {
    req_unref(req); /* the batch's share, or the JS side's */
    return;
  }
  if (ev->type == EV_BATCH) {
    deliver_batch(env, req);
    req_unref(req);
    return;
  }
  request_ended(env, ed, req);
  if (req->kind == K_RAW_STREAM || req->kind == K_FAST_STREAM) deliver_batch(env, req); /* nothing left, normally */
  if (req->kind == K_PROMISE_CHAT || req->kind == K_FAST_STREAM || req->kind == K_PROMISE_CALL) {
    done_fast(env, ed, req);
    return;
  }
  napi_value undef = lln_undefined(env);
  napi_value fn = ref_value(env, req->on_done);
  napi_value argv[3];
  argv[0] = lln_int32(env, (int32_t)ev->status);
  argv[1] = lln_wrap_handle(env, LLN_H_llm_response_t, ev->response);
  ev->response = NULL; /* the External owns it now */
  char *text = NULL;
  if (req->error_object) {
    argv[2] = lln_wrap_handle(env, LLN_H_llm_error_t, ev->error);
    ev->error = NULL;
  } else {
    argv[2] = lln_string(env, ev->text);
    text = ev->text;
    ev->text = NULL;
  }
  /* The request is over: its references go before user code runs. */
  napi_ref done_ref = req->on_done;
  req->on_done = NULL;
  req_release_js(env, req);
  if (fn != NULL && napi_call_function(env, undef, fn, 3, argv, NULL) != napi_ok) rethrow_uncaught(env);
  napi_delete_reference(env, done_ref);
  free(text);
}

/* ------------------------------------------------------------ the library's callbacks (any thread) */

/* Queues an event for the JS thread: on the driver's local list when the
 * callback runs inside the driver's run (the JS thread, in
 * llm_client_io_run or while the driver runs its list), else on the
 * thread-safe function. 0: nobody will run it. */
static int post_event(lln_req *req, lln_event *ev) {
  lln_driver *d = req->drv;
  if (d != NULL && pthread_equal(pthread_self(), d->thread) && d->active) {
    ev->qnext = NULL;
    if (d->q_tail != NULL) d->q_tail->qnext = ev;
    else d->q_head = ev;
    d->q_tail = ev;
    return 1;
  }
  return napi_call_threadsafe_function(req->tsfn, ev, napi_tsfn_nonblocking) == napi_ok;
}

static void post_done(lln_req *req) {
  pthread_mutex_lock(&req->mu);
  int orphan = req->orphan;
  pthread_mutex_unlock(&req->mu);
  if (orphan || !post_event(req, &req->done_ev))
    req_unref(req); /* the environment is closing: call_js will not run for the JS side's share */
  pthread_mutex_lock(&req->mu);
  req->done_posted = 1;
  pthread_cond_broadcast(&req->cv);
  pthread_mutex_unlock(&req->mu);
  req_unref(req);
}

static int on_chunk_c(const char *chunk_json, void *user_data) {
  lln_req *req = user_data;
  size_t n = strlen(chunk_json);
  int post = 0;
  pthread_mutex_lock(&req->mu);
  if (req->stop || req->orphan || !append_chunk(req, chunk_json, n)) {
    pthread_mutex_unlock(&req->mu);
    return 1; /* stopped, orphaned, or out of memory: cancel */
  }
  if (!req->batch_posted) {
    req->batch_posted = 1;
    req->refs++; /* the queued event's share */
    post = 1;
  }
  pthread_mutex_unlock(&req->mu);
  if (post && !post_event(req, &req->batch_ev)) {
    /* The environment is closing: nobody will take chunks any more. */
    pthread_mutex_lock(&req->mu);
    req->refs--; /* cannot reach 0: the I/O side's share is held */
    req->stop = 1;
    pthread_mutex_unlock(&req->mu);
    return 1;
  }
  return 0;
}

static void on_done_c(llm_status status, llm_response_t *response, const char *error_message, void *user_data) {
  lln_req *req = user_data;
  lln_event *done = &req->done_ev;
  done->status = status;
  done->response = response;
  done->text = dup_str(error_message);
  if (done->text == NULL && error_message != NULL && status != LLM_OK) done->status = LLM_ERR_OUT_OF_MEMORY;
  post_done(req);
}

static void on_done_e_c(llm_status status, llm_response_t *response, const llm_error_t *error, void *user_data) {
  lln_req *req = user_data;
  lln_event *done = &req->done_ev;
  done->status = status;
  done->response = response;
  done->error = llm_error_clone(error);
  if (response != NULL && (req->kind == K_PROMISE_CHAT || req->kind == K_FAST_STREAM)) {
    /* The response's JSON is made (and the response freed) here, off the JS thread. */
    done->text = dup_str(llm_response_json(response));
    llm_response_free(response);
    done->response = NULL;
    if (done->text == NULL) done->status = LLM_ERR_OUT_OF_MEMORY;
  }
  post_done(req);
}

/* ------------------------------------------------------------ environments */

static void envdata_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  lln_envdata *ed = hint;
  ed->tsfn = NULL;
}

static lln_envdata *envdata(napi_env env) {
  lln_envdata *ed = NULL;
  if (napi_get_instance_data(env, (void **)&ed) == napi_ok && ed != NULL) return ed;
  ed = calloc(1, sizeof *ed);
  if (ed == NULL || napi_set_instance_data(env, ed, envdata_finalize, NULL) != napi_ok) {
    free(ed);
    return NULL;
  }
  return ed;
}

static int ensure_tsfn(napi_env env, lln_envdata *ed) {
  if (ed->tsfn != NULL) return 1;
  napi_value name;
  napi_create_string_utf8(env, "literllm", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, tsfn_finalize, ed, call_js, &ed->tsfn) !=
      napi_ok)
    return 0;
  napi_unref_threadsafe_function(env, ed->tsfn);
  /* Registered after the thread-safe function, so it runs before the
   * environment's own teardown of it (hooks run in reverse order). */
  if (!ed->hooked && napi_add_env_cleanup_hook(env, env_cleanup, ed) == napi_ok) ed->hooked = 1;
  return 1;
}

/* ------------------------------------------------------------ drivers (hosted clients) */

static lln_driver *drv_find(lln_envdata *ed, const llm_client_t *client) {
  for (lln_driver *d = ed->drivers; d != NULL; d = d->next)
    if (d->client == client) return d;
  return NULL;
}

static void on_poll(uv_poll_t *handle, int status, int events);
static void on_timer(uv_timer_t *handle);
static void on_idle(uv_idle_t *handle);

/* Runs the client's loop once on the JS thread, then the events its callbacks
 * queued, in order, inside one callback scope (promise reactions and
 * process.nextTick run when it closes), then re-arms the timer. The scopes
 * are opened only when there are events: a run that only sends, or only
 * re-arms the timer (the one after a request was started, typically), calls
 * no JS and costs no scope. */
static void drv_run(lln_driver *d) {
  if (d->closing) return;
  napi_env env = d->env;
  d->active = 1;
  int t = -1;
  llm_status st = llm_client_io_run(d->client, &t);
  napi_handle_scope hs = NULL;
  napi_callback_scope cs = NULL;
  if (d->q_head != NULL) {
    if (napi_open_handle_scope(env, &hs) != napi_ok) hs = NULL;
    napi_value resource = ref_value(env, d->resource);
    if (resource == NULL || napi_open_callback_scope(env, resource, d->actx, &cs) != napi_ok) cs = NULL;
  }
  /* The events: what JS does meanwhile may post more (client.close() in a
   * callback: the cancellations of llm_client_free); they run here too. The
   * driver outlives this (it is freed in a close callback, a later turn). */
  lln_event *ev;
  while ((ev = d->q_head) != NULL) {
    d->q_head = ev->qnext;
    if (d->q_head == NULL) d->q_tail = NULL;
    ev->qnext = NULL;
    call_js(env, NULL, d->ed, ev);
  }
  d->active = 0;
  if (!d->closing) {
    if (st == LLM_OK && t == 0) {
      uv_timer_stop(d->timer);
      uv_idle_start(d->idle, on_idle); /* next turn of the loop, after its poll */
    } else {
      uv_idle_stop(d->idle);
      if (st != LLM_OK || t < 0) uv_timer_stop(d->timer);
      else uv_timer_start(d->timer, on_timer, (uint64_t)t, 0);
    }
  }
  if (cs != NULL) napi_close_callback_scope(env, cs);
  if (hs != NULL) napi_close_handle_scope(env, hs);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  drv_run(uv_handle_get_data((uv_handle_t *)handle));
}

static void on_timer(uv_timer_t *handle) { drv_run(uv_handle_get_data((uv_handle_t *)handle)); }

static void on_idle(uv_idle_t *handle) { drv_run(uv_handle_get_data((uv_handle_t *)handle)); }

/* Every handle closed: the environment may end now (the cleanup hook goes);
 * the driver itself goes once no request of its client is left to end. */
static void on_closed(uv_handle_t *handle) {
  lln_driver *d = uv_handle_get_data(handle);
  if (++d->closed < LLN_DRV_HANDLES) return;
  if (d->resource != NULL) napi_delete_reference(d->env, d->resource);
  d->resource = NULL;
  if (d->actx != NULL) napi_async_destroy(d->env, d->actx);
  d->actx = NULL;
  napi_async_cleanup_hook_handle hook = d->hook;
  d->hook = NULL;
  drv_maybe_free(d);
  if (hook != NULL) napi_remove_async_cleanup_hook(hook);
}

/* Stops polling and closes the handles: before llm_client_free (which closes
 * the descriptor), and when the environment ends. Idempotent. */
static void drv_close(lln_driver *d) {
  if (d->closing) return;
  d->closing = 1;
  for (lln_driver **p = &d->ed->drivers; *p != NULL; p = &(*p)->next)
    if (*p == d) {
      *p = d->next;
      break;
    }
  d->next = NULL;
  uv_poll_stop(d->poll);
  uv_timer_stop(d->timer);
  uv_idle_stop(d->idle);
  for (int i = 0; i < LLN_DRV_HANDLES; i++) uv_close(drv_handle(d, i), on_closed);
}

/* The environment ends (a worker, or the process) with the client open: its
 * handles close now; the client itself is freed later in the teardown (its
 * External's finalizer), after this hook has gone (the hook holds the
 * environment). */
static void drv_env_hook(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  drv_close(arg);
}

/* attach(client): drives a hosted client's loop from this environment's event
 * loop. true: attached (or already); false: not a hosted client (a threaded
 * one needs nothing). Throws when the loop cannot poll the descriptor. */
static napi_value internal_attach(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  void *client_p = NULL;
  if (!lln_arg_handle(env, argv[0], LLN_H_llm_client_t, 0, &client_p)) return NULL;
  napi_value result;
  lln_envdata *ed = envdata(env);
  int fd = -1;
  if (client_p == NULL || ed == NULL || llm_client_io_fd(client_p, &fd) != LLM_OK || fd < 0) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  napi_get_boolean(env, true, &result);
  if (drv_find(ed, client_p) != NULL) return result;
  struct uv_loop_s *loop = NULL;
  lln_driver *d = calloc(1, sizeof *d);
  if (d != NULL) {
    d->poll = calloc(1, uv_handle_size(UV_POLL));
    d->timer = calloc(1, uv_handle_size(UV_TIMER));
    d->idle = calloc(1, uv_handle_size(UV_IDLE));
  }
  if (d == NULL || d->poll == NULL || d->timer == NULL || d->idle == NULL) {
    if (d != NULL) drv_free(d);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return NULL;
  }
  napi_value resource, name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == NULL || uv_poll_init(loop, d->poll, fd) != 0) {
    drv_free(d);
    napi_throw_error(env, NULL, "literllm: cannot poll the client's descriptor");
    return NULL;
  }
  uv_timer_init(loop, d->timer);
  uv_idle_init(loop, d->idle);
  d->env = env;
  d->ed = ed;
  d->client = client_p;
  d->thread = pthread_self();
  for (int i = 0; i < LLN_DRV_HANDLES; i++) {
    uv_handle_set_data(drv_handle(d, i), d);
    uv_unref(drv_handle(d, i));
  }
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "literllm", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, resource, 1, &d->resource) != napi_ok ||
      napi_async_init(env, resource, name, &d->actx) != napi_ok ||
      napi_add_async_cleanup_hook(env, drv_env_hook, d, &d->hook) != napi_ok ||
      uv_poll_start(d->poll, UV_READABLE, on_poll) != 0) {
    if (d->hook != NULL) {
      napi_remove_async_cleanup_hook(d->hook);
      d->hook = NULL;
    }
    d->ed = NULL; /* not listed yet */
    d->closing = 1;
    uv_poll_stop(d->poll);
    for (int i = 0; i < LLN_DRV_HANDLES; i++) uv_close(drv_handle(d, i), on_closed);
    napi_throw_error(env, NULL, "literllm: cannot poll the client's descriptor");
    return NULL;
  }
  d->next = ed->drivers;
  ed->drivers = d;
  return result;
}

/* detach(client): stops driving the client (before llm_client_free). */
static napi_value internal_detach(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  void *client_p = NULL;
  if (!lln_arg_handle(env, argv[0], LLN_H_llm_client_t, 0, &client_p)) return NULL;
  lln_envdata *ed = envdata(env);
  lln_driver *d = client_p != NULL && ed != NULL ? drv_find(ed, client_p) : NULL;
  if (d != NULL) drv_close(d);
  return lln_undefined(env);
}

/* The request JSON: into `stack` when it fits, else a malloc'd copy (*heap).
 * NULL for null/undefined; 0 (exception pending) for anything else. */
static int arg_json(napi_env env, napi_value v, char *stack, size_t size, char **json, char **heap) {
  size_t n = 0;
  *heap = NULL;
  if (napi_get_value_string_utf8(env, v, stack, size, &n) == napi_ok && n + 4 < size) {
    if (memchr(stack, 0, n) != NULL) { /* C would read it only up to the NUL */
      napi_throw_type_error(env, NULL, "expected a string without NUL characters");
      return 0;
    }
    *json = stack;
    return 1;
  }
  if (!lln_arg_string(env, v, heap)) return 0;
  *json = *heap;
  return 1;
}

/* Raw:        (client, request_json, [on_chunk,] on_done) -> { status, out_request_id[, error] }
 * Promise:    (client, request_json, signal, keep) -> Promise (the id goes to the id slot)
 * Fast stream: (client, request_json, on_batch, on_done, signal, keep) -> id (number) | error
 * With `call` (llm_call_async[_e]), `endpoint` and `data` (an array of
 * buffers, or null) come before and after request_json:
 * Raw call:     (client, endpoint, request_json, data, on_done) -> { status, out_request_id[, error] }
 * Promise call: (client, endpoint, request_json, data, signal, keep) -> Promise of a response
 *               handle (the id goes to the id slot)
 * Raw call stream:  (client, endpoint, request_json, data, on_chunk, on_done) -> as raw
 * Fast call stream: (client, endpoint, request_json, data, on_batch, on_done, signal, keep) -> as
 *               fast stream (llm_call_stream_async[_e]) */
static napi_value start(napi_env env, napi_callback_info info, int kind, int error_object, int call) {
  size_t argc = 8;
  napi_value all[8] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  if (napi_get_cb_info(env, info, &argc, all, NULL, NULL) != napi_ok) return NULL;
  /* argv: the chat form's arguments (client, request_json, ...) */
  napi_value argv[6] = {all[0], call ? all[2] : all[1], NULL, NULL, NULL, NULL};
  for (int i = 2; i < 6; i++) argv[i] = all[call ? i + 2 : i];
  napi_value js_endpoint = call ? all[1] : NULL;
  napi_value js_data = call ? all[3] : NULL;
  int stream = kind == K_RAW_STREAM || kind == K_FAST_STREAM;
  int fast = kind >= K_PROMISE_CHAT;
  int promise_kind = kind == K_PROMISE_CHAT || kind == K_PROMISE_CALL;
  void *client_p = NULL;
  napi_value js_chunk = stream ? argv[2] : NULL;
  napi_value js_done = promise_kind ? NULL : stream ? argv[3] : argv[2];
  napi_value js_signal = promise_kind ? argv[2] : kind == K_FAST_STREAM ? argv[4] : NULL;
  napi_value js_keep = promise_kind ? argv[3] : kind == K_FAST_STREAM ? argv[5] : NULL;
  if (!lln_arg_handle(env, argv[0], LLN_H_llm_client_t, 0, &client_p)) return NULL;
  if (stream && !lln_arg_function(env, js_chunk, "on_chunk")) return NULL;
  if (js_done != NULL && !lln_arg_function(env, js_done, "on_done")) return NULL;
  lln_envdata *ed = envdata(env);
  if (ed == NULL || !ensure_tsfn(env, ed) || (fast && ed->make_error == NULL)) {
    napi_throw_error(env, NULL, "literllm: cannot set up callbacks in this environment");
    return NULL;
  }
  if (fast) {
    napi_valuetype t = napi_undefined;
    if (js_signal != NULL) napi_typeof(env, js_signal, &t);
    if (t == napi_undefined || t == napi_null) js_signal = NULL;
    if (js_keep != NULL) napi_typeof(env, js_keep, &t);
    if (js_keep == NULL || t == napi_undefined || t == napi_null) js_keep = argv[0];
  } else {
    js_keep = argv[0];
  }
  char stack[4096];
  char *request_json = NULL, *heap = NULL, *endpoint = NULL;
  lln_buffers uploads = {0};
  napi_value uploads_keep = NULL;
  if (call) {
    if (!lln_arg_string(env, js_endpoint, &endpoint)) return NULL;
    if (!lln_arg_buffers(env, js_data, &uploads)) {
      free(endpoint);
      return NULL;
    }
    /* Our own array of the buffers: kept until the done callback ran, whatever
     * the caller does with its array meanwhile. */
    if (uploads.count > 0) {
      napi_create_array_with_length(env, uploads.count, &uploads_keep);
      for (uint32_t i = 0; i < uploads.count; i++) {
        napi_value e;
        if (napi_get_element(env, js_data, i, &e) == napi_ok) napi_set_element(env, uploads_keep, i, e);
      }
    }
  }
  if (!arg_json(env, argv[1], stack, sizeof stack, &request_json, &heap)) {
    free(endpoint);
    lln_buffers_free(&uploads);
    return NULL;
  }

  lln_req *req = calloc(1, sizeof *req);
  if (req == NULL) {
    free(endpoint);
    lln_buffers_free(&uploads);
    free(heap);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return NULL;
  }
  req->kind = kind;
  req->done_ev.type = EV_DONE;
  req->done_ev.req = req;
  req->batch_ev.type = EV_BATCH;
  req->batch_ev.req = req;
  req->error_object = fast || error_object;
  req->tsfn = ed->tsfn;
  req->drv = drv_find(ed, client_p);
  req->refs = 2;
  pthread_mutex_init(&req->mu, NULL);
  pthread_cond_init(&req->cv, NULL);
  napi_value promise = NULL;
  if ((js_done != NULL && napi_create_reference(env, js_done, 1, &req->on_done) != napi_ok) ||
      (stream && napi_create_reference(env, js_chunk, 1, &req->on_chunk) != napi_ok) ||
      (js_signal != NULL && napi_create_reference(env, js_signal, 1, &req->signal) != napi_ok) ||
      napi_create_reference(env, js_keep, 1, &req->keep) != napi_ok ||
      (uploads_keep != NULL && napi_create_reference(env, uploads_keep, 1, &req->uploads) != napi_ok) ||
      (promise_kind && napi_create_promise(env, &req->deferred, &promise) != napi_ok)) {
    free(endpoint);
    lln_buffers_free(&uploads);
    free(heap);
    req_release_js(env, req);
    req_unref(req);
    return NULL;
  }
  if (ed->in_flight++ == 0) napi_ref_threadsafe_function(env, ed->tsfn);
  if (req->drv != NULL) drv_request_started(req->drv);
  uint64_t id = 0;
  llm_error_t *error = NULL;
  llm_status st;
  llm_client_t *client = client_p;
  if (call && stream && req->error_object)
    st = llm_call_stream_async_e(client, endpoint, request_json, uploads.data, uploads.sizes, uploads.count, on_chunk_c,
                                 on_done_e_c, req, &id, &error);
  else if (call && stream)
    st = llm_call_stream_async(client, endpoint, request_json, uploads.data, uploads.sizes, uploads.count, on_chunk_c,
                               on_done_c, req, &id);
  else if (call && req->error_object)
    st = llm_call_async_e(client, endpoint, request_json, uploads.data, uploads.sizes, uploads.count, on_done_e_c,
                          req, &id, &error);
  else if (call)
    st = llm_call_async(client, endpoint, request_json, uploads.data, uploads.sizes, uploads.count, on_done_c, req,
                        &id);
  else if (stream && req->error_object)
    st = llm_chat_stream_async_e(client, request_json, on_chunk_c, on_done_e_c, req, &id, &error);
  else if (stream)
    st = llm_chat_stream_async(client, request_json, on_chunk_c, on_done_c, req, &id);
  else if (req->error_object)
    st = llm_chat_async_e(client, request_json, on_done_e_c, req, &id, &error);
  else
    st = llm_chat_async(client, request_json, on_done_c, req, &id);
  free(heap);
  free(endpoint);
  lln_buffers_free(&uploads); /* the arrays only: the library read them during the call */
  napi_deferred deferred = req->deferred;
  if (st != LLM_OK) {
    /* No callback will run: both sides let go now. */
    request_ended(env, ed, req);
    req_release_js(env, req);
    req_unref(req);
    id = 0;
  } else {
    req->client_c = client;
    req->id = id;
    req->next = ed->head;
    if (ed->head) ed->head->prev = req;
    ed->head = req;
    req->listed = 1;
  }

  if (promise_kind) {
    if (ed->id_slot != NULL) ed->id_slot[0] = (double)id;
    if (st != LLM_OK) napi_reject_deferred(env, deferred, make_error(env, ed, st, error, NULL));
    llm_error_free(error);
    return promise;
  }
  if (kind == K_FAST_STREAM) {
    napi_value result;
    if (st != LLM_OK) result = make_error(env, ed, st, error, NULL);
    else napi_create_double(env, (double)id, &result);
    llm_error_free(error);
    return result;
  }
  napi_value result = lln_object(env);
  lln_set(env, result, "status", lln_int32(env, (int32_t)st));
  lln_set(env, result, "out_request_id", lln_uint64(env, id));
  if (error_object) lln_set(env, result, "error", lln_wrap_handle(env, LLN_H_llm_error_t, error));
  return result;
}

napi_value lln_manual_llm_chat_async(napi_env env, napi_callback_info info) { return start(env, info, K_RAW_CHAT, 0, 0); }
napi_value lln_manual_llm_chat_async_e(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_CHAT, 1, 0);
}
napi_value lln_manual_llm_chat_stream_async(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_STREAM, 0, 0);
}
napi_value lln_manual_llm_chat_stream_async_e(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_STREAM, 1, 0);
}

napi_value lln_manual_llm_call_async(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_CHAT, 0, 1);
}
napi_value lln_manual_llm_call_async_e(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_CHAT, 1, 1);
}

napi_value lln_manual_llm_call_stream_async(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_STREAM, 0, 1);
}
napi_value lln_manual_llm_call_stream_async_e(napi_env env, napi_callback_info info) {
  return start(env, info, K_RAW_STREAM, 1, 1);
}

/* Strings the library returns as `char *` are copied into JS and freed by the
 * wrapper that got them, so there is nothing for JS to free: a no-op. */
napi_value lln_manual_llm_string_free(napi_env env, napi_callback_info info) {
  (void)info;
  return lln_undefined(env);
}

/* ------------------------------------------------------------ _internal */

/* setup(makeError, idSlot): makeError(status, message, httpStatus, provider,
 * code, type, retryAfterMs, retries, signal) -> Error; idSlot a Float64Array(1). */
static napi_value internal_setup(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (!lln_arg_function(env, argv[0], "makeError")) return NULL;
  lln_envdata *ed = envdata(env);
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (ed == NULL || argv[1] == NULL ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < 1) {
    napi_throw_type_error(env, NULL, "setup(makeError, Float64Array(1))");
    return NULL;
  }
  napi_value global, json, parse;
  napi_get_global(env, &global);
  if (napi_get_named_property(env, global, "JSON", &json) != napi_ok ||
      napi_get_named_property(env, json, "parse", &parse) != napi_ok)
    return NULL;
  if (ed->make_error) napi_delete_reference(env, ed->make_error);
  if (ed->json) napi_delete_reference(env, ed->json);
  if (ed->json_parse) napi_delete_reference(env, ed->json_parse);
  if (ed->id_slot_ref) napi_delete_reference(env, ed->id_slot_ref);
  napi_create_reference(env, argv[0], 1, &ed->make_error);
  napi_create_reference(env, json, 1, &ed->json);
  napi_create_reference(env, parse, 1, &ed->json_parse);
  napi_create_reference(env, argv[1], 1, &ed->id_slot_ref);
  ed->id_slot = data;
  return lln_undefined(env);
}

static napi_value internal_chat(napi_env env, napi_callback_info info) { return start(env, info, K_PROMISE_CHAT, 1, 0); }
static napi_value internal_call(napi_env env, napi_callback_info info) {
  return start(env, info, K_PROMISE_CALL, 1, 1);
}
static napi_value internal_stream(napi_env env, napi_callback_info info) {
  return start(env, info, K_FAST_STREAM, 1, 0);
}
static napi_value internal_call_stream(napi_env env, napi_callback_info info) {
  return start(env, info, K_FAST_STREAM, 1, 1);
}

/* exports._internal (not enumerable): the idiomatic layer's entry points; not
 * part of the raw layer (which mirrors the header). */
napi_status lln_define_internal(napi_env env, napi_value exports) {
  napi_value obj;
  napi_status s = napi_create_object(env, &obj);
  napi_property_descriptor fns[] = {
      {"setup", NULL, internal_setup, NULL, NULL, NULL, napi_enumerable, NULL},
      {"chat", NULL, internal_chat, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stream", NULL, internal_stream, NULL, NULL, NULL, napi_enumerable, NULL},
      {"call", NULL, internal_call, NULL, NULL, NULL, napi_enumerable, NULL},
      {"callStream", NULL, internal_call_stream, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attach", NULL, internal_attach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"detach", NULL, internal_detach, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (s == napi_ok) s = napi_define_properties(env, obj, sizeof fns / sizeof fns[0], fns);
  napi_property_descriptor prop = {"_internal", NULL, NULL, NULL, NULL, obj, napi_default, NULL};
  if (s == napi_ok) s = napi_define_properties(env, exports, 1, &prop);
  return s;
}
