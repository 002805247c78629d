/* Module entry of the literllm Node addon: the raw layer (raw_gen.c) and the
 * idiomatic layer's internal entry points (async.c, exports._internal). */
#include "support.h"

static napi_value init(napi_env env, napi_value exports) {
  if (lln_define_raw(env, exports) != napi_ok || lln_define_internal(env, exports) != napi_ok) {
    napi_throw_error(env, NULL, "literllm: cannot define the raw layer");
    return NULL;
  }
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
