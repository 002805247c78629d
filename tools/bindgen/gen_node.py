"""Node raw layer: the N-API addon's function table and wrappers (C), its status
constants, and the TypeScript declarations of the raw module.

Rules that map a C signature onto a JS function (the same for every function):
  - in parameters become JS arguments in order: a handle is an External made by
    the addon (or null), `const char *` a string (or null), integers numbers,
    `uint64_t` a bigint;
  - out parameters (`T **`, `char **`, `const char **`, `size_t *`,
    `uint64_t *`, `int *`) and `void *user_data` are not arguments;
  - buffers in (`const void *const *NAME, const size_t *NAME_sizes, size_t
    NAME_count`) are one argument: an array of Buffers / TypedArrays /
    DataViews / ArrayBuffers (or null); their bytes are read in place, not
    copied, so they must stay unchanged until the call ends (the async forms
    keep a reference to each until the done callback);
  - a returned `const void *` with a `size_t *` out (its length) is copied
    into a Buffer; a returned `const float *` with `size_t *count` and
    `size_t *dimensions` outs is copied into a Float32Array of count *
    dimensions floats (null for NULL);
  - a function with out parameters returns an object: `status` (or `value`)
    for the C return value and one field per out parameter, named as in C;
    otherwise it returns the C return value itself;
  - a returned `char *` is copied into a JS string and freed (llm_string_free);
  - handles come back as Externals that free themselves when collected;
    `llm_<thing>_free` frees at once and empties the External.
Functions taking a callback are written by hand (src/async.c) and only
declared here; their JS form takes JS functions in place of the callbacks.
"""
import bindgen

C_OUT = "bindings/node/src/raw_gen.c"
H_OUT = "bindings/node/src/raw_gen.h"
TS_OUT = "bindings/node/lib/raw.d.ts"
CTS_OUT = "bindings/node/lib/raw.d.cts"
MJS_OUT = "bindings/node/lib/raw.mjs"

MANUAL_NOTE = "written by hand in src/async.c"


BUFFERS = "const void *const *"


def _buffer_group(params):
    """{name of data_sizes / data_count: name of data} for each buffers-in triple."""
    out = {}
    for i, p in enumerate(params):
        if p["type"] == BUFFERS:
            sz = params[i + 1] if i + 1 < len(params) else None
            ct = params[i + 2] if i + 2 < len(params) else None
            if not (sz and ct and sz["type"] == "const size_t *" and ct["type"] == "size_t"):
                raise SystemExit(f"gen_node: {p['name']} ({BUFFERS}) must be followed by "
                                 "`const size_t *sizes, size_t count`")
            out[sz["name"]] = p["name"]
            out[ct["name"]] = p["name"]
    return out


def _is_buffer_part(p, params):
    return p["name"] in _buffer_group(params)


def _is_out(p):
    t = p["type"]
    if t == BUFFERS or t == "const size_t *":
        return False
    if p["pointer_depth"] >= 2:
        return True
    return t in ("size_t *", "uint64_t *", "int *")


def _is_user_data(p):
    return p["type"] == "void *"


def _is_manual(fn):
    return any(p["kind"] == "callback" for p in fn["params"]) or any(
        p["type"] == "char *" for p in fn["params"])


def _free_fn_of(api):
    names = {f["name"] for f in api["functions"]}
    out = {}
    for h in api["handles"]:
        free = h["tag"] + "_free"
        if free in names:
            out[h["name"]] = free
    return out


def _c_comment(doc, indent=""):
    if not doc:
        return ""
    doc = doc.replace("*/", "* /")
    lines = doc.split("\n")
    return indent + "/* " + ("\n" + indent + " * ").join(lines) + " */\n"


def _ts_comment(doc, indent=""):
    if not doc:
        return ""
    doc = doc.replace("*/", "* /")
    return indent + "/**\n" + "".join(indent + " * " + l + "\n" for l in doc.split("\n")) + indent + " */\n"


def _handle_enum(name):
    return "LLN_H_" + name


def _ts_in(p, api):
    k, t = p["kind"], p["type"]
    if k == "handle":
        return p["base"] + " | null"
    if k == "enum":
        return p["base"]
    if k == "callback":
        return p["base"]
    if t == "const char *":
        return "string | null"
    if t == BUFFERS:
        return "ReadonlyArray<ArrayBufferView | ArrayBuffer> | null"
    if t in ("uint64_t", "int64_t"):
        return "bigint"
    if t == "char *":
        return "unknown"
    return "number"


def _ts_out(p):
    t, base = p["type"], p["base"]
    if p["kind"] == "handle":
        return base + " | null"
    if t in ("char **", "const char **"):
        return "string | null"
    if t == "uint64_t *":
        return "bigint"
    return "number"


def _ts_ret(r):
    t = r["type"]
    if t == "void":
        return "void"
    if r["kind"] == "handle":
        return r["base"] + " | null"
    if r["kind"] == "enum":
        return r["base"]
    if t in ("const char *", "char *"):
        return "string | null"
    if t == "const void *":
        return "Buffer | null"
    if t == "const float *":
        return "Float32Array | null"
    if t == "uint64_t":
        return "bigint"
    return "number"


def _ret_field(fn):
    return "status" if fn["returns"]["kind"] == "enum" else "value"


def _ts_sig(fn, api):
    ins = [p for p in fn["params"] if not _is_out(p) and not _is_user_data(p)
           and not _is_buffer_part(p, fn["params"])]
    outs = [p for p in fn["params"] if _is_out(p)]
    args = ", ".join(f"{p['name']}: {_ts_in(p, api)}" for p in ins)
    if outs:
        fields = []
        if fn["returns"]["type"] != "void":
            fields.append(f"{_ret_field(fn)}: {_ts_ret(fn['returns'])}")
        fields += [f"{p['name']}: {_ts_out(p)}" for p in outs]
        ret = "{ " + "; ".join(fields) + " }"
    else:
        ret = _ts_ret(fn["returns"])
    return f"export declare function {fn['name']}({args}): {ret};\n"


def _ts_callback(cb):
    params = [p for p in cb["params"] if not _is_user_data(p)]
    args = ", ".join(f"{p['name']}: {_ts_in(p, None) if p['kind'] != 'handle' else p['base'] + ' | null'}"
                     for p in params)
    ret = "unknown" if cb["returns"]["type"] != "void" else "void"
    note = ""
    if cb["returns"]["type"] != "void":
        note = ("\n(JS form: the callback runs on the main thread after the C callback returned;"
                " a truthy return value makes the next C call of it return non-zero.)")
    return _ts_comment(cb["doc"] + note) + f"export type {cb['name']} = ({args}) => {ret};\n"


def _ts(api):
    out = ["// " + bindgen.GENERATED_NOTE + "\n",
           "// The raw layer of the literllm Node addon: one function per function of include/literllm.h.\n",
           "// Handles are opaque Externals; strings are copied; see tools/bindgen/gen_node.py for the rules.\n\n"]
    for h in api["handles"]:
        out.append(_ts_comment(h["doc"]))
        out.append(f"export type {h['name']} = {{ readonly __literllm_handle: \"{h['name']}\" }};\n")
    out.append("\n")
    for c in api["constants"]:
        v = c["value"]
        out.append(f"/** {c['expression']} */\n" if c["expression"] != str(v) else "")
        out.append(f"export declare const {c['name']}: {v if isinstance(v, int) else repr(v)};\n")
    for e in api["enums"]:
        out.append(_ts_comment(e["doc"]))
        out.append(f"export type {e['name']} = number;\n")
        for v in e["values"]:
            out.append(_ts_comment(v["doc"]))
            out.append(f"export declare const {v['name']}: {v['value']};\n")
        out.append(f"/** Every value of {e['name']} by name. */\n")
        out.append(f"export declare const {e['name']}_values: {{ readonly [name: string]: number }};\n")
    out.append("\n")
    for cb in api["callbacks"]:
        out.append(_ts_callback(cb))
    out.append("\n")
    for fn in api["functions"]:
        out.append(_ts_comment(fn["doc"]))
        out.append(_ts_sig(fn, api))
    return "".join(out)


def _c_wrapper(fn, api, free_of):
    name = fn["name"]
    group = _buffer_group(fn["params"])
    ins = [p for p in fn["params"] if not _is_out(p) and not _is_user_data(p) and p["name"] not in group]
    outs = [p for p in fn["params"] if _is_out(p)]
    frees = set(free_of.values())
    b = [_c_comment(fn["doc"]), f"static napi_value w_{name}(napi_env env, napi_callback_info info) {{\n"]
    n = max(len(ins), 1)
    b.append(f"  size_t argc = {len(ins)};\n  napi_value argv[{n}];\n")
    b.append("  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;\n")
    cleanup = []
    call_args = []
    for p in ins:
        if p["type"] == "const char *":
            b.append(f"  char *{p['name']} = NULL;\n")
        elif p["type"] == BUFFERS:
            b.append(f"  lln_buffers {p['name']}_b = {{0}};\n")
    for i, p in enumerate(fn["params"]):
        pn = p["name"]
        if _is_out(p):
            if p["kind"] == "handle":
                b.append(f"  {p['base']} *{pn} = NULL;\n")
            elif p["type"] == "char **":
                b.append(f"  char *{pn} = NULL;\n")
            elif p["type"] == "const char **":
                b.append(f"  const char *{pn} = NULL;\n")
            elif p["type"] == "size_t *":
                b.append(f"  size_t {pn} = 0;\n")
            elif p["type"] == "uint64_t *":
                b.append(f"  uint64_t {pn} = 0;\n")
            elif p["type"] == "int *":
                b.append(f"  int {pn} = 0;\n")
            call_args.append("&" + pn)
            continue
        if pn in group:
            call_args.append(f"{group[pn]}_sizes" if p["type"] == "const size_t *" else f"{group[pn]}_count")
            continue
        j = ins.index(p)
        a = f"argc > {j} ? argv[{j}] : NULL"
        if p["kind"] == "handle":
            ctype = ("const " if p["const"] else "") + p["base"] + " *"
            take = "1" if name in frees else "0"
            b.append(f"  void *{pn}_p = NULL;\n")
            b.append(f"  if (!lln_arg_handle(env, {a}, {_handle_enum(p['base'])}, {take}, &{pn}_p)) goto fail;\n")
            b.append(f"  {ctype}{pn} = ({ctype}){pn}_p;\n")
        elif p["type"] == "const char *":
            b.append(f"  if (!lln_arg_string(env, {a}, &{pn})) goto fail;\n")
            cleanup.append(f"  free({pn});\n")
        elif p["type"] == BUFFERS:
            b.append(f"  if (!lln_arg_buffers(env, {a}, &{pn}_b)) goto fail;\n")
            b.append(f"  const void *const *{pn} = {pn}_b.data;\n")
            b.append(f"  const size_t *{pn}_sizes = {pn}_b.sizes;\n")
            b.append(f"  size_t {pn}_count = {pn}_b.count;\n")
            cleanup.append(f"  lln_buffers_free(&{pn}_b);\n")
        elif p["kind"] == "enum":
            b.append(f"  int32_t {pn}_i = 0;\n")
            b.append(f"  if (!lln_arg_int32(env, {a}, &{pn}_i)) goto fail;\n")
            b.append(f"  {p['base']} {pn} = ({p['base']}){pn}_i;\n")
        elif p["type"] == "int":
            b.append(f"  int32_t {pn} = 0;\n")
            b.append(f"  if (!lln_arg_int32(env, {a}, &{pn})) goto fail;\n")
        elif p["type"] == "uint64_t":
            b.append(f"  uint64_t {pn} = 0;\n")
            b.append(f"  if (!lln_arg_uint64(env, {a}, &{pn})) goto fail;\n")
        else:
            raise SystemExit(f"gen_node: no JS mapping for parameter {pn} ({p['type']}) of {name}")
        call_args.append(pn)
    rt = fn["returns"]
    call = f"{name}({', '.join(call_args)})"
    if rt["type"] == "void":
        b.append(f"  {call};\n")
    elif rt["kind"] == "handle":
        b.append(f"  {rt['base']} *ret = {call};\n")
    else:
        b.append(f"  {rt['type']} ret = {call};\n")

    def conv(t, kind, base, var, lenvar=None):
        if t == "const void *":
            if not lenvar:
                raise SystemExit(f"gen_node: {name} returns const void * without a size_t * length")
            return f"lln_buffer_copy(env, {var}, {lenvar})"
        if t == "const float *":
            names = {p["name"] for p in outs}
            if not {"count", "dimensions"} <= names:
                raise SystemExit(f"gen_node: {name} returns const float * without count and dimensions")
            return f"lln_float32_copy(env, {var}, count * dimensions)"
        if kind == "handle":
            return f"lln_wrap_handle(env, {_handle_enum(base)}, {var})"
        if t in ("const char *", "char *"):
            if lenvar:
                return f"lln_string_n(env, {var}, {lenvar})"
            return f"lln_string(env, {var})"
        if kind == "enum" or t in ("int", "int *"):
            return f"lln_int32(env, (int32_t){var})"
        if t == "unsigned":
            return f"lln_uint32(env, {var})"
        if t == "int64_t":
            return f"lln_int64(env, {var})"
        if t in ("uint64_t", "uint64_t *"):
            return f"lln_uint64(env, {var})"
        if t == "size_t *":
            return f"lln_int64(env, (int64_t){var})"
        raise SystemExit(f"gen_node: no JS mapping for {t} in {name}")

    lenvar = next((p["name"] for p in outs if p["type"] == "size_t *"), None)
    if not outs:
        if rt["type"] == "void":
            b.append("  napi_value result = lln_undefined(env);\n")
        else:
            b.append(f"  napi_value result = {conv(rt['type'], rt['kind'], rt['base'], 'ret')};\n")
    else:
        b.append("  napi_value result = lln_object(env);\n")
        if rt["type"] != "void":
            b.append(f"  lln_set(env, result, \"{_ret_field(fn)}\", "
                     f"{conv(rt['type'], rt['kind'], rt['base'], 'ret', lenvar)});\n")
        for p in outs:
            if p["type"] == "char **":
                b.append(f"  lln_set(env, result, \"{p['name']}\", lln_string(env, {p['name']}));\n")
                b.append(f"  llm_string_free({p['name']});\n")
            elif p["type"] == "const char **":
                b.append(f"  lln_set(env, result, \"{p['name']}\", lln_string(env, {p['name']}));\n")
            elif p["kind"] == "handle":
                b.append(f"  lln_set(env, result, \"{p['name']}\", "
                         f"lln_wrap_handle(env, {_handle_enum(p['base'])}, {p['name']}));\n")
            else:
                b.append(f"  lln_set(env, result, \"{p['name']}\", {conv(p['type'], p['kind'], p['base'], p['name'])});\n")
    b += cleanup
    b.append("  return result;\n")
    if any("goto fail" in x for x in b):
        b.append("fail:\n")
        b += cleanup
        b.append("  return NULL;\n")
    b.append("}\n\n")
    return "".join(b)


def _h(api):
    free_of = _free_fn_of(api)
    out = ["/* " + bindgen.GENERATED_NOTE + " */\n",
           "/* Handle kinds, the free function of each, and the hand-written entries of the table. */\n",
           "#ifndef LITERLLM_NODE_RAW_GEN_H\n#define LITERLLM_NODE_RAW_GEN_H\n\n",
           "#include <node_api.h>\n#include <literllm.h>\n\n",
           "typedef enum lln_handle_kind {\n"]
    for i, h in enumerate(api["handles"]):
        out.append(f"  {_handle_enum(h['name'])} = {i},\n")
    out.append(f"  LLN_H_COUNT = {len(api['handles'])}\n}} lln_handle_kind;\n\n")
    out.append("/* The names and free functions of the handle kinds, by kind. */\n")
    out.append("extern const char *const lln_handle_names[LLN_H_COUNT];\n")
    out.append("extern void (*const lln_handle_free[LLN_H_COUNT])(void *);\n\n")
    for fn in api["functions"]:
        if _is_manual(fn):
            out.append(f"/* {fn['name']}: {MANUAL_NOTE}. */\n")
            out.append(f"napi_value lln_manual_{fn['name']}(napi_env env, napi_callback_info info);\n")
    out.append("\n/* Adds every function and constant of the raw layer to `exports`. */\n")
    out.append("napi_status lln_define_raw(napi_env env, napi_value exports);\n\n#endif\n")
    return "".join(out)


def _int_exports(api):
    """The integers lln_define_raw puts on the module, in its order: (name, C value, doc or None).
    Integer constants, then every enum's values."""
    out = [(c["name"], c["value"], None) for c in api["constants"] if isinstance(c["value"], int)]
    for e in api["enums"]:
        out += [(v["name"], v["name"], v["doc"]) for v in e["values"]]
    return out


def _c(api):
    free_of = _free_fn_of(api)
    out = ["/* " + bindgen.GENERATED_NOTE + " */\n",
           "/* The raw layer of the literllm Node addon; rules in tools/bindgen/gen_node.py. */\n",
           "#include <stdlib.h>\n#include \"raw_gen.h\"\n#include \"support.h\"\n\n"]
    for h in api["handles"]:
        if h["name"] in free_of:
            f = free_of[h["name"]]
            out.append(f"static void free_{h['name']}(void *p) {{ {f}(({h['name']} *)p); }}\n")
    out.append("\nconst char *const lln_handle_names[LLN_H_COUNT] = {\n")
    for h in api["handles"]:
        out.append(f"  \"{h['name']}\",\n")
    out.append("};\n\nvoid (*const lln_handle_free[LLN_H_COUNT])(void *) = {\n")
    for h in api["handles"]:
        out.append(f"  {'free_' + h['name'] if h['name'] in free_of else 'NULL'},\n")
    out.append("};\n\n")
    for fn in api["functions"]:
        if not _is_manual(fn):
            out.append(_c_wrapper(fn, api, free_of))
    out.append("napi_status lln_define_raw(napi_env env, napi_value exports) {\n")
    out.append("  static const struct { const char *name; napi_callback cb; } fns[] = {\n")
    for fn in api["functions"]:
        cb = ("lln_manual_" if _is_manual(fn) else "w_") + fn["name"]
        out.append(f"    {{\"{fn['name']}\", {cb}}},\n")
    out.append("  };\n")
    out.append("  static const struct { const char *name; int64_t value; } ints[] = {\n")
    for name, value, doc in _int_exports(api):
        if doc is not None:
            out.append(_c_comment(doc, "    "))
        out.append(f"    {{\"{name}\", {value}}},\n")
    out.append("  };\n")
    out.append("  napi_status s = napi_ok;\n")
    out.append("  for (size_t i = 0; i < sizeof fns / sizeof fns[0] && s == napi_ok; i++) {\n")
    out.append("    napi_value f;\n")
    out.append("    s = napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f);\n")
    out.append("    if (s == napi_ok) s = napi_set_named_property(env, exports, fns[i].name, f);\n  }\n")
    out.append("  for (size_t i = 0; i < sizeof ints / sizeof ints[0] && s == napi_ok; i++) {\n")
    out.append("    napi_value v;\n")
    out.append("    s = napi_create_int64(env, ints[i].value, &v);\n")
    out.append("    if (s == napi_ok) s = napi_set_named_property(env, exports, ints[i].name, v);\n  }\n")
    for e in api["enums"]:
        out.append("  if (s == napi_ok) {\n    napi_value o, v;\n    s = napi_create_object(env, &o);\n")
        for v in e["values"]:
            out.append(f"    if (s == napi_ok) s = napi_create_int32(env, {v['name']}, &v);\n")
            out.append(f"    if (s == napi_ok) s = napi_set_named_property(env, o, \"{v['name']}\", v);\n")
        out.append(f"    if (s == napi_ok) s = napi_object_freeze(env, o);\n")
        out.append(f"    if (s == napi_ok) s = napi_set_named_property(env, exports, \"{e['name']}_values\", o);\n  }}\n")
    out.append("  return s;\n}\n")
    return "".join(out)


# raw.d.ts (what package.json's "./raw" names) re-exports raw.d.cts, the declarations of raw.cjs,
# as index.d.ts does index.d.cts: one copy of the declarations.
TS_REEXPORT = (
    "// Generated by tools/bindgen from include/literllm.h (literllm.api.json): do not edit.\n"
    "// Types of raw.mjs: the raw layer's declarations are in raw.d.cts (the module is raw.cjs).\n"
    "export * from './raw.cjs';\n"
    "declare const raw: typeof import('./raw.cjs');\n"
    "export default raw;\n"
)


def _exported_names(api):
    """What lln_define_raw puts on the module, in its order."""
    return ([fn["name"] for fn in api["functions"]] + [name for name, _, _ in _int_exports(api)] +
            [e["name"] + "_values" for e in api["enums"]])


# raw.mjs: the ESM entry of the raw layer. Node cannot see the names of a module.exports
# that is the addon itself, so they are listed here (the same objects: one addon instance).
def _mjs(api):
    out = ["// Generated by tools/bindgen from include/literllm.h (literllm.api.json): do not edit.\n",
           "// ESM entry point of the raw layer: the same objects as raw.cjs (one addon instance).\n",
           "import raw from './raw.cjs';\n\nexport const {\n"]
    line = " "
    for n in _exported_names(api):
        if len(line) + len(n) + 2 > 110:
            out.append(line.rstrip() + "\n")
            line = " "
        line += " " + n + ","
    out.append(line.rstrip() + "\n} = raw;\nexport default raw;\n")
    return "".join(out)


def generate(api):
    return {C_OUT: _c(api), H_OUT: _h(api), TS_OUT: TS_REEXPORT, CTS_OUT: _ts(api), MJS_OUT: _mjs(api)}


def declared(api):
    """The functions the generated table of the addon holds."""
    import re
    table = _c(api).split("fns[] = {", 1)[1].split("};", 1)[0]
    return set(re.findall(r'\{"(llm_[a-z0-9_]+)", (?:w_|lln_manual_)', table))
