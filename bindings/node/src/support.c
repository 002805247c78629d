/* Conversions for the raw layer: handle Externals with type tags, strings, integers. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "support.h"

/* What an External of the addon points to: the handle (NULL once freed). */
typedef struct lln_box {
  void *p;
  int kind;
} lln_box;

/* One type tag per handle kind (any fixed 128-bit values). */
static napi_type_tag tag_of(int kind) {
  napi_type_tag t = {0x6c697465726c6c6dULL, 0x6e6f646568000000ULL + (uint64_t)kind};
  return t;
}

static int type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (v == NULL) return 1;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  return t == napi_null || t == napi_undefined;
}

int lln_arg_handle(napi_env env, napi_value v, int kind, int take, void **out) {
  *out = NULL;
  if (is_nullish(env, v)) return 1;
  napi_valuetype t;
  bool ok = false;
  napi_type_tag tag = tag_of(kind);
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, v, &tag, &ok) != napi_ok || !ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected a %s handle", lln_handle_names[kind]);
    return type_error(env, msg);
  }
  lln_box *box = NULL;
  if (napi_get_value_external(env, v, (void **)&box) != napi_ok || box == NULL)
    return type_error(env, "invalid handle");
  *out = box->p;
  if (take) box->p = NULL;
  return 1;
}

int lln_arg_string(napi_env env, napi_value v, char **out) {
  *out = NULL;
  if (is_nullish(env, v)) return 1;
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return type_error(env, "expected a string");
  char *s = malloc(n + 1);
  if (s == NULL) {
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return 0;
  }
  napi_get_value_string_utf8(env, v, s, n + 1, &n);
  if (strlen(s) != n) { /* C would read it only up to the NUL */
    free(s);
    return type_error(env, "expected a string without NUL characters");
  }
  *out = s;
  return 1;
}

int lln_arg_int32(napi_env env, napi_value v, int32_t *out) {
  if (v == NULL || napi_get_value_int32(env, v, out) != napi_ok) return type_error(env, "expected a number");
  return 1;
}

int lln_arg_uint64(napi_env env, napi_value v, uint64_t *out) {
  bool lossless = false;
  if (v != NULL && napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok) return 1;
  double d = 0;
  if (v != NULL && napi_get_value_double(env, v, &d) == napi_ok && d >= 0 && d <= 9007199254740991.0) {
    *out = (uint64_t)d;
    return 1;
  }
  return type_error(env, "expected a bigint or a non-negative integer");
}

int lln_arg_function(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  if (v != NULL && napi_typeof(env, v, &t) == napi_ok && t == napi_function) return 1;
  char msg[96];
  snprintf(msg, sizeof msg, "%s must be a function", what);
  return type_error(env, msg);
}

static void box_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  lln_box *box = data;
  if (box->p != NULL && lln_handle_free[box->kind] != NULL) lln_handle_free[box->kind](box->p);
  free(box);
}

napi_value lln_wrap_handle(napi_env env, int kind, void *p) {
  napi_value v = NULL;
  if (p == NULL) {
    napi_get_null(env, &v);
    return v;
  }
  lln_box *box = malloc(sizeof *box);
  if (box == NULL) {
    if (lln_handle_free[kind] != NULL) lln_handle_free[kind](p);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return NULL;
  }
  box->p = p;
  box->kind = kind;
  if (napi_create_external(env, box, box_finalize, NULL, &v) != napi_ok) {
    box_finalize(env, box, NULL);
    return NULL;
  }
  napi_type_tag tag = tag_of(kind);
  napi_type_tag_object(env, v, &tag);
  return v;
}

napi_value lln_string(napi_env env, const char *s) {
  napi_value v = NULL;
  if (s == NULL) napi_get_null(env, &v);
  else napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value lln_string_n(napi_env env, const char *s, size_t n) {
  napi_value v = NULL;
  if (s == NULL) napi_get_null(env, &v);
  else napi_create_string_utf8(env, s, n, &v);
  return v;
}

napi_value lln_int32(napi_env env, int32_t x) {
  napi_value v = NULL;
  napi_create_int32(env, x, &v);
  return v;
}

napi_value lln_uint32(napi_env env, uint32_t x) {
  napi_value v = NULL;
  napi_create_uint32(env, x, &v);
  return v;
}

napi_value lln_int64(napi_env env, int64_t x) {
  napi_value v = NULL;
  napi_create_int64(env, x, &v);
  return v;
}

napi_value lln_uint64(napi_env env, uint64_t x) {
  napi_value v = NULL;
  napi_create_bigint_uint64(env, x, &v);
  return v;
}

napi_value lln_object(napi_env env) {
  napi_value v = NULL;
  napi_create_object(env, &v);
  return v;
}

napi_value lln_undefined(napi_env env) {
  napi_value v = NULL;
  napi_get_undefined(env, &v);
  return v;
}

void lln_set(napi_env env, napi_value obj, const char *name, napi_value v) {
  if (obj != NULL && v != NULL) napi_set_named_property(env, obj, name, v);
}

int lln_buffer_bytes(napi_env env, napi_value v, const void **data, size_t *len) {
  bool is = false;
  void *p = NULL;
  *data = NULL;
  *len = 0;
  if (v != NULL && napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t n = 0;
    napi_value ab;
    size_t off = 0;
    if (napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok) return type_error(env, "bad TypedArray");
    size_t unit = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: unit = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: unit = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: unit = 8; break;
      default: unit = 1;
    }
    *data = p;
    *len = n * unit;
    return 1;
  }
  if (v != NULL && napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, len, &p, NULL, NULL) != napi_ok) return type_error(env, "bad DataView");
    *data = p;
    return 1;
  }
  if (v != NULL && napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return type_error(env, "bad ArrayBuffer");
    *data = p;
    return 1;
  }
  return type_error(env, "expected a Buffer, TypedArray, DataView or ArrayBuffer");
}

int lln_arg_buffers(napi_env env, napi_value v, lln_buffers *out) {
  out->data = NULL;
  out->sizes = NULL;
  out->count = 0;
  if (is_nullish(env, v)) return 1;
  bool is = false;
  uint32_t n = 0;
  if (napi_is_array(env, v, &is) != napi_ok || !is || napi_get_array_length(env, v, &n) != napi_ok)
    return type_error(env, "expected an array of Buffers (or null)");
  if (n == 0) return 1;
  out->data = calloc(n, sizeof *out->data);
  out->sizes = calloc(n, sizeof *out->sizes);
  if (out->data == NULL || out->sizes == NULL) {
    lln_buffers_free(out);
    napi_throw_error(env, "LLM_ERR_OUT_OF_MEMORY", "out of memory");
    return 0;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || !lln_buffer_bytes(env, e, &out->data[i], &out->sizes[i])) {
      lln_buffers_free(out);
      return 0;
    }
    if (out->data[i] == NULL) out->data[i] = ""; /* an empty buffer: a valid pointer to 0 bytes */
  }
  out->count = n;
  return 1;
}

void lln_buffers_free(lln_buffers *b) {
  free((void *)b->data);
  free(b->sizes);
  b->data = NULL;
  b->sizes = NULL;
  b->count = 0;
}

napi_value lln_buffer_copy(napi_env env, const void *p, size_t n) {
  napi_value v = NULL;
  if (p == NULL) {
    napi_get_null(env, &v);
    return v;
  }
  if (napi_create_buffer_copy(env, n, p, NULL, &v) != napi_ok) return NULL;
  return v;
}

napi_value lln_float32_copy(napi_env env, const float *p, size_t n) {
  napi_value v = NULL, ab = NULL;
  if (p == NULL) {
    napi_get_null(env, &v);
    return v;
  }
  void *d = NULL;
  if (napi_create_arraybuffer(env, n * sizeof(float), &d, &ab) != napi_ok) return NULL;
  if (n) memcpy(d, p, n * sizeof(float));
  if (napi_create_typedarray(env, napi_float32_array, n, ab, 0, &v) != napi_ok) return NULL;
  return v;
}
