/* Conversions between JS values and the C types of literllm.h, for the raw layer. */
#ifndef LITERLLM_NODE_SUPPORT_H
#define LITERLLM_NODE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <node_api.h>
#include "raw_gen.h"

/* A handle argument: null/undefined gives NULL; an External of another kind
 * throws a TypeError. With take != 0 the External is emptied (for *_free). */
int lln_arg_handle(napi_env env, napi_value v, int kind, int take, void **out);
/* A string argument (malloc'd copy, NULL for null/undefined). */
int lln_arg_string(napi_env env, napi_value v, char **out);
int lln_arg_int32(napi_env env, napi_value v, int32_t *out);
/* A bigint or a non-negative integer number. */
int lln_arg_uint64(napi_env env, napi_value v, uint64_t *out);
/* Buffers in (const void *const *data, const size_t *sizes, size_t count):
 * from an array of ArrayBufferViews / ArrayBuffers, or null/undefined (none).
 * The pointers are into the JS values' memory (no copy): valid while those
 * values live and are not detached. lln_buffers_free frees the arrays only. */
typedef struct lln_buffers {
  const void **data;
  size_t *sizes;
  size_t count;
} lln_buffers;
int lln_arg_buffers(napi_env env, napi_value v, lln_buffers *out);
void lln_buffers_free(lln_buffers *b);
/* One buffer's bytes (ArrayBufferView or ArrayBuffer); 0 with a TypeError otherwise. */
int lln_buffer_bytes(napi_env env, napi_value v, const void **data, size_t *len);
/* A function argument (throws a TypeError otherwise). */
int lln_arg_function(napi_env env, napi_value v, const char *what);

/* A new External owning `p` (freed when collected unless emptied); null for NULL. */
napi_value lln_wrap_handle(napi_env env, int kind, void *p);
napi_value lln_string(napi_env env, const char *s);
napi_value lln_string_n(napi_env env, const char *s, size_t n);
/* A new Buffer holding a copy of n bytes at p; null for NULL. */
napi_value lln_buffer_copy(napi_env env, const void *p, size_t n);
/* A new Float32Array holding a copy of n floats at p; null for NULL. */
napi_value lln_float32_copy(napi_env env, const float *p, size_t n);
napi_value lln_int32(napi_env env, int32_t v);
napi_value lln_uint32(napi_env env, uint32_t v);
napi_value lln_int64(napi_env env, int64_t v);
napi_value lln_uint64(napi_env env, uint64_t v);
napi_value lln_object(napi_env env);
napi_value lln_undefined(napi_env env);
void lln_set(napi_env env, napi_value obj, const char *name, napi_value v);

/* exports._internal (src/async.c): the idiomatic layer's own entry points. */
napi_status lln_define_internal(napi_env env, napi_value exports);

#endif
