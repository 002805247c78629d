/* The raw layer's callback forms (llm_chat_async[_e], llm_chat_stream_async[_e])
 * and llm_string_free. The library calls back on the client's I/O thread; each
 * callback copies what it got into an event and queues it, without blocking,
 * on the environment's one thread-safe function; the events run on the JS
 * thread in order. That function is referenced (keeps the loop alive) only
 * while requests are in flight. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "support.h"

/* Per environment (main thread or worker). */
typedef struct lln_envdata {
  napi_threadsafe_function tsfn; /* NULL until the first request, and after teardown */
  int in_flight;
} lln_envdata;

typedef struct lln_req {
  napi_ref on_chunk; /* NULL for chat */
  napi_ref on_done;
  napi_ref client; /* keeps the client's External alive while in flight */
  int error_object; /* _e form: the done callback gets an error handle */
  volatile int stop; /* set when JS's on_chunk returned truthy */
  napi_threadsafe_function tsfn;
  /* Teardown of the environment (a worker ending) with the request in flight:
   * its cleanup hook cancels it and waits for the done callback, so the I/O
   * thread never touches a thread-safe function the environment has freed. */
  llm_client_t *client_c;
  uint64_t id;
  int hooked;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done_posted;
  int refs; /* the I/O side and the JS side; freed when both let go */
  struct lln_event *done_ev; /* made at start, so running out of memory cannot lose the end */
} lln_req;

enum { EV_CHUNK, EV_DONE };

typedef struct lln_event {
  int type;
  lln_req *req;
  llm_status status;
  char *text; /* chunk JSON, or the error message of the plain forms */
  llm_response_t *response;
  llm_error_t *error;
} lln_event;

static void event_free(lln_event *ev);

static void req_unref(lln_req *req) {
  pthread_mutex_lock(&req->mu);
  int left = --req->refs;
  pthread_mutex_unlock(&req->mu);
  if (left == 0) {
    if (!req->done_posted) event_free(req->done_ev); /* never posted */
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
    if (req->client) napi_delete_reference(env, req->client);
  }
  req_unref(req);
}

static void event_free(lln_event *ev) {
  if (ev == NULL) return;
  free(ev->text);
  llm_response_free(ev->response);
  llm_error_free(ev->error);
  free(ev);
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

/* Env cleanup hook: cancel, then wait (at most 2 s) for the done callback. */
static void req_cleanup(void *arg) {
  lln_req *req = arg;
  req->hooked = 0;
  pthread_mutex_lock(&req->mu);
  int posted = req->done_posted;
  pthread_mutex_unlock(&req->mu);
  /* Posted: over, and its client may be freed already (llm_client_free runs
   * the callbacks before it returns, on this very thread). */
  if (posted) return;
  llm_client_cancel(req->client_c, req->id);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2;
  pthread_mutex_lock(&req->mu);
  while (!req->done_posted)
    if (pthread_cond_timedwait(&req->cv, &req->mu, &until) == ETIMEDOUT) break;
  pthread_mutex_unlock(&req->mu);
}

static void request_ended(napi_env env, lln_envdata *ed, lln_req *req) {
  if (req->hooked) {
    napi_remove_env_cleanup_hook(env, req_cleanup, req);
    req->hooked = 0;
  }
  if (--ed->in_flight == 0 && ed->tsfn != NULL) napi_unref_threadsafe_function(env, ed->tsfn);
}

/* Runs on the JS thread (env NULL when the environment is going away). */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  lln_envdata *ed = context;
  lln_event *ev = data;
  lln_req *req = ev->req;
  if (env == NULL) {
    if (ev->type == EV_DONE) req_unref(req);
    event_free(ev);
    return;
  }
  napi_value undef = lln_undefined(env);
  if (ev->type == EV_CHUNK) {
    napi_value fn = ref_value(env, req->on_chunk);
    napi_value arg = lln_string(env, ev->text);
    napi_value ret = NULL;
    if (fn != NULL && napi_call_function(env, undef, fn, 1, &arg, &ret) == napi_ok && ret != NULL) {
      bool stop = false;
      napi_value b;
      if (napi_coerce_to_bool(env, ret, &b) == napi_ok && napi_get_value_bool(env, b, &stop) == napi_ok && stop)
        req->stop = 1;
    }
    event_free(ev);
    return;
  }
  request_ended(env, ed, req);
  napi_value fn = ref_value(env, req->on_done);
  napi_value argv[3];
  argv[0] = lln_int32(env, (int32_t)ev->status);
  argv[1] = lln_wrap_handle(env, LLN_H_llm_response_t, ev->response);
  ev->response = NULL; /* the External owns it now */
  if (req->error_object) {
    argv[2] = lln_wrap_handle(env, LLN_H_llm_error_t, ev->error);
    ev->error = NULL;
  } else {
    argv[2] = lln_string(env, ev->text);
  }
  /* The request is over: its references go before user code runs. */
  napi_ref done_ref = req->on_done;
  req->on_done = NULL;
  req_release_js(env, req);
  if (fn != NULL) napi_call_function(env, undef, fn, 3, argv, NULL);
  napi_delete_reference(env, done_ref);
  event_free(ev);
}

/* I/O thread: queue an event; the last one lets the I/O side go. */
static void post(lln_req *req, lln_event *ev, int last) {
  if (napi_call_threadsafe_function(req->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) {
    /* The environment is closing: nobody will see it. */
    if (last) req_unref(req); /* the JS side's share: call_js will not run for it */
    event_free(ev);
  }
  if (last) {
    pthread_mutex_lock(&req->mu);
    req->done_posted = 1;
    pthread_cond_broadcast(&req->cv);
    pthread_mutex_unlock(&req->mu);
    req_unref(req);
  }
}

static int on_chunk_c(const char *chunk_json, void *user_data) {
  lln_req *req = user_data;
  if (req->stop) return 1;
  lln_event *ev = calloc(1, sizeof *ev);
  if (ev == NULL) return 1;
  ev->type = EV_CHUNK;
  ev->req = req;
  ev->text = dup_str(chunk_json);
  if (ev->text == NULL) {
    free(ev);
    return 1;
  }
  post(req, ev, 0);
  return 0;
}

static void on_done_c(llm_status status, llm_response_t *response, const char *error_message, void *user_data) {
  lln_req *req = user_data;
  lln_event *done = req->done_ev;
  done->status = status;
  done->response = response;
  done->text = dup_str(error_message);
  if (done->text == NULL && error_message != NULL && status != LLM_OK) done->status = LLM_ERR_OUT_OF_MEMORY;
  post(req, done, 1);
}

static void on_done_e_c(llm_status status, llm_response_t *response, const llm_error_t *error, void *user_data) {
  lln_req *req = user_data;
  lln_event *done = req->done_ev;
  done->status = status;
  done->response = response;
  done->error = llm_error_clone(error);
  post(req, done, 1);
}

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
  return 1;
}

/* JS: (client, request_json, [on_chunk,] on_done) -> { status, out_request_id[, error] } */
static napi_value start(napi_env env, napi_callback_info info, int stream, int error_object) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  void *client_p = NULL;
  char *request_json = NULL;
  napi_value js_chunk = stream ? argv[2] : NULL;
  napi_value js_done = stream ? argv[3] : argv[2];
  if (!lln_arg_handle(env, argv[0], LLN_H_llm_client_t, 0, &client_p)) return NULL;
  if (stream && !lln_arg_function(env, js_chunk, "on_chunk")) return NULL;
  if (!lln_arg_function(env, js_done, "on_done")) return NULL;
  lln_envdata *ed = envdata(env);
  if (ed == NULL || !ensure_tsfn(env, ed)) {
    napi_throw_error(env, NULL, "literllm: cannot set up callbacks in this environment");
    return NULL;
  }
  if (!lln_arg_string(env, argv[1], &request_json)) return NULL;

  lln_req *req = calloc(1, sizeof *req);
  if (req == NULL) {
    free(request_json);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return NULL;
  }
  req->done_ev = calloc(1, sizeof *req->done_ev);
  if (req->done_ev == NULL) {
    free(req);
    free(request_json);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return NULL;
  }
  req->done_ev->type = EV_DONE;
  req->done_ev->req = req;
  req->error_object = error_object;
  req->tsfn = ed->tsfn;
  req->refs = 2;
  pthread_mutex_init(&req->mu, NULL);
  pthread_cond_init(&req->cv, NULL);
  if (napi_create_reference(env, js_done, 1, &req->on_done) != napi_ok ||
      (stream && napi_create_reference(env, js_chunk, 1, &req->on_chunk) != napi_ok) ||
      napi_create_reference(env, argv[0], 1, &req->client) != napi_ok) {
    free(request_json);
    req_release_js(env, req);
    req_unref(req);
    return NULL;
  }
  if (ed->in_flight++ == 0) napi_ref_threadsafe_function(env, ed->tsfn);
  uint64_t id = 0;
  llm_error_t *error = NULL;
  llm_status st;
  llm_client_t *client = client_p;
  if (stream && error_object)
    st = llm_chat_stream_async_e(client, request_json, on_chunk_c, on_done_e_c, req, &id, &error);
  else if (stream)
    st = llm_chat_stream_async(client, request_json, on_chunk_c, on_done_c, req, &id);
  else if (error_object)
    st = llm_chat_async_e(client, request_json, on_done_e_c, req, &id, &error);
  else
    st = llm_chat_async(client, request_json, on_done_c, req, &id);
  free(request_json);
  if (st != LLM_OK) {
    /* No callback will run: both sides let go now. */
    request_ended(env, ed, req);
    req_release_js(env, req);
    req_unref(req);
  } else {
    /* Registered after the thread-safe function, so it runs before the
     * environment's own teardown of it (hooks run in reverse order). */
    req->client_c = client;
    req->id = id;
    pthread_mutex_lock(&req->mu);
    int open = !req->done_posted;
    pthread_mutex_unlock(&req->mu);
    if (open && napi_add_env_cleanup_hook(env, req_cleanup, req) == napi_ok) req->hooked = 1;
  }

  napi_value result = lln_object(env);
  lln_set(env, result, "status", lln_int32(env, (int32_t)st));
  lln_set(env, result, "out_request_id", lln_uint64(env, id));
  if (error_object) lln_set(env, result, "error", lln_wrap_handle(env, LLN_H_llm_error_t, error));
  return result;
}

napi_value lln_manual_llm_chat_async(napi_env env, napi_callback_info info) { return start(env, info, 0, 0); }
napi_value lln_manual_llm_chat_async_e(napi_env env, napi_callback_info info) { return start(env, info, 0, 1); }
napi_value lln_manual_llm_chat_stream_async(napi_env env, napi_callback_info info) { return start(env, info, 1, 0); }
napi_value lln_manual_llm_chat_stream_async_e(napi_env env, napi_callback_info info) { return start(env, info, 1, 1); }

/* Strings the library returns as `char *` are copied into JS and freed by the
 * wrapper that got them, so there is nothing for JS to free: a no-op. */
napi_value lln_manual_llm_string_free(napi_env env, napi_callback_info info) {
  (void)info;
  return lln_undefined(env);
}
