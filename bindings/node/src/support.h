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
/* A function argument (throws a TypeError otherwise). */
int lln_arg_function(napi_env env, napi_value v, const char *what);

/* A new External owning `p` (freed when collected unless emptied); null for NULL. */
napi_value lln_wrap_handle(napi_env env, int kind, void *p);
napi_value lln_string(napi_env env, const char *s);
napi_value lln_string_n(napi_env env, const char *s, size_t n);
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
