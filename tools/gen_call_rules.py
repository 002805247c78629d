#!/usr/bin/env python3
"""Derives llm_call's request checks from the OpenAI OpenAPI description.

    gen_call_rules.py SPEC OUT [--check]

SPEC is openai-openapi.yaml (../shared/specs beside the checkout); OUT is
src/core/call_rules.inc, a committed C++ table that src/core/validate_call.cpp
walks. For each endpoint below that the description has and the library
serves, it reads the request body schema (or, for a GET/DELETE or an id-taking
POST, the path and query parameters) and writes one row per top-level field:
its JSON types, whether it is required, its allowed string values, numeric
minimum/maximum, minItems/maxItems, minLength/maxLength, and the types and
values of an array's items.

Flattening, "where simple": $ref is followed; allOf merges properties (a field
named twice must satisfy both: types intersect, bounds tighten); anyOf/oneOf
become a union (types united; a bound, a length or an enum only survives when
every branch that could hold such a value states it, so an open
`anyOf: [string, {enum}]` is any string). `nullable: true` and `type: 'null'`
allow null; `format: binary` marks a file part (the library takes
{"path"} / {"data": i} there). Nested objects are checked for their type only.

With --check nothing is written: the table is generated into a temporary file
and compared byte for byte with OUT; a difference fails (exit 1) with a diff.
The output depends only on SPEC: fields in the description's order, endpoints
in the order below.
"""
import difflib
import os
import sys
import tempfile

try:
    import yaml
except ImportError:  # Debian: apt-get install python3-yaml (scripts/install-deps.sh)
    sys.exit("gen_call_rules: needs PyYAML (python3-yaml)")

# (library endpoint name, HTTP method, OpenAPI path) in the order they are written.
ENDPOINTS = [
    ("embeddings", "post", "/embeddings"),
    ("images.generations", "post", "/images/generations"),
    ("audio.speech", "post", "/audio/speech"),
    ("audio.transcriptions", "post", "/audio/transcriptions"),
    ("audio.translations", "post", "/audio/translations"),
    ("moderations", "post", "/moderations"),
    ("files.create", "post", "/files"),
    ("files.retrieve", "get", "/files/{file_id}"),
    ("files.list", "get", "/files"),
    ("files.delete", "delete", "/files/{file_id}"),
    ("files.content", "get", "/files/{file_id}/content"),
    ("batches.create", "post", "/batches"),
    ("batches.retrieve", "get", "/batches/{batch_id}"),
    ("batches.list", "get", "/batches"),
    ("batches.cancel", "post", "/batches/{batch_id}/cancel"),
    ("responses.create", "post", "/responses"),
    ("responses.retrieve", "get", "/responses/{response_id}"),
    ("responses.cancel", "post", "/responses/{response_id}/cancel"),
    ("responses.delete", "delete", "/responses/{response_id}"),
]

# JSON types, as bits of Field::types (the C++ names are written into the .inc).
TYPE_BITS = [
    ("string", "kString"),
    ("integer", "kInteger"),
    ("number", "kNumber"),
    ("boolean", "kBoolean"),
    ("object", "kObject"),
    ("array", "kArray"),
    ("null", "kNull"),
]
ALL_TYPES = frozenset(t for t, _ in TYPE_BITS)


class Flat:
    """One schema flattened to what a field row holds."""

    def __init__(self):
        self.types = set(ALL_TYPES)  # what a value may be
        self.binary = False
        self.values = None  # allowed strings, or None: any
        self.minimum = self.maximum = None  # (value, exclusive)
        self.min_items = self.max_items = None
        self.min_length = self.max_length = None
        self.item_types = set(ALL_TYPES)
        self.item_values = None
        self.required = []  # an object's required members (for the body itself)
        self.properties = {}  # name -> schema (for the body itself), in order


class Spec:
    def __init__(self, doc):
        self.doc = doc

    def deref(self, s, seen=()):
        while isinstance(s, dict) and "$ref" in s:
            ref = s["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise SystemExit("gen_call_rules: cannot follow $ref " + ref)
            seen = seen + (ref,)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            s = node
        return s

    def flatten(self, s, depth=0):
        if depth > 40:
            raise SystemExit("gen_call_rules: schema nests too deeply")
        s = self.deref(s)
        f = Flat()
        if not isinstance(s, dict):
            return f
        # This schema's own keywords.
        t = s.get("type")
        if t is not None:
            f.types = set([t] if isinstance(t, str) else t)
            if "number" in f.types:
                f.types.add("integer")
        if "const" in s:
            f.values = [s["const"]]
        if "enum" in s:
            f.values = list(s["enum"])
        if f.values is not None:
            if t is None:
                f.types = {"string"}
            if any(v is None for v in f.values):
                f.types.add("null")
            f.values = [v for v in f.values if v is not None]
            if not all(isinstance(v, str) for v in f.values):
                f.values = None  # only string values are checked
        if s.get("format") == "binary":
            f.binary = True
        if "minimum" in s:
            f.minimum = (s["minimum"], False)
        if "exclusiveMinimum" in s and not isinstance(s["exclusiveMinimum"], bool):
            f.minimum = (s["exclusiveMinimum"], True)
        if "maximum" in s:
            f.maximum = (s["maximum"], False)
        if "exclusiveMaximum" in s and not isinstance(s["exclusiveMaximum"], bool):
            f.maximum = (s["exclusiveMaximum"], True)
        for key, attr in (("minItems", "min_items"), ("maxItems", "max_items"),
                          ("minLength", "min_length"), ("maxLength", "max_length")):
            if key in s:
                setattr(f, attr, int(s[key]))
        if "items" in s and isinstance(s["items"], dict):
            it = self.flatten(s["items"], depth + 1)
            f.item_types = it.types
            f.item_values = it.values
        f.properties = dict(s.get("properties") or {})
        f.required = list(s.get("required") or [])
        if "properties" in s and t is None:
            f.types = {"object"}
        # Combinators.
        for part in s.get("allOf") or []:
            f = intersect(f, self.flatten(part, depth + 1))
        for key in ("anyOf", "oneOf"):
            if s.get(key):
                f = intersect(f, union([self.flatten(b, depth + 1) for b in s[key]]))
        if s.get("nullable") is True:  # OpenAPI 3.0's spelling, beside any combinator
            f.types.add("null")
        return f


def tighter(a, b, pick):
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)


def intersect(a, b):
    """Both a and b hold (allOf, or a schema's keywords beside its anyOf)."""
    f = Flat()
    f.types = a.types & b.types
    f.binary = a.binary or b.binary
    if a.values is not None and b.values is not None:
        f.values = [v for v in a.values if v in b.values]
    else:
        f.values = a.values if a.values is not None else b.values
    f.minimum = tighter(a.minimum, b.minimum, lambda x, y: max(x, y, key=lambda m: (m[0], m[1])))
    f.maximum = tighter(a.maximum, b.maximum, lambda x, y: min(x, y, key=lambda m: (m[0], not m[1])))
    f.min_items = tighter(a.min_items, b.min_items, max)
    f.max_items = tighter(a.max_items, b.max_items, min)
    f.min_length = tighter(a.min_length, b.min_length, max)
    f.max_length = tighter(a.max_length, b.max_length, min)
    f.item_types = a.item_types & b.item_types
    if a.item_values is not None and b.item_values is not None:
        f.item_values = [v for v in a.item_values if v in b.item_values]
    else:
        f.item_values = a.item_values if a.item_values is not None else b.item_values
    f.properties = dict(a.properties)
    for name, sch in b.properties.items():
        f.properties[name] = {"allOf": [f.properties[name], sch]} if name in f.properties else sch
    f.required = a.required + [r for r in b.required if r not in a.required]
    return f


def union(branches):
    """One of the branches holds (anyOf / oneOf)."""
    f = Flat()
    f.types = set().union(*(b.types for b in branches))
    f.binary = any(b.binary for b in branches)

    def relevant(kinds):
        return [b for b in branches if b.types & kinds]

    def loosest(bs, attr, pick):
        vals = [getattr(b, attr) for b in bs]
        if not vals or any(v is None for v in vals):
            return None
        return pick(vals)

    strings = relevant({"string"})
    if strings and all(b.values is not None for b in strings):
        f.values = []
        for b in strings:
            f.values += [v for v in b.values if v not in f.values]
    nums = relevant({"integer", "number"})
    f.minimum = loosest(nums, "minimum", lambda v: min(v, key=lambda m: (m[0], not m[1])))
    f.maximum = loosest(nums, "maximum", lambda v: max(v, key=lambda m: (m[0], m[1])))
    f.min_length = loosest(strings, "min_length", min)
    f.max_length = loosest(strings, "max_length", max)
    arrays = relevant({"array"})
    f.min_items = loosest(arrays, "min_items", min)
    f.max_items = loosest(arrays, "max_items", max)
    if arrays:
        f.item_types = set().union(*(b.item_types for b in arrays))
        string_items = [b for b in arrays if b.item_types & {"string"}]
        if string_items and all(b.item_values is not None for b in string_items):
            f.item_values = []
            for b in string_items:
                f.item_values += [v for v in b.item_values if v not in f.item_values]
    objects = [b for b in branches if b.properties]
    if len(objects) == 1:
        f.properties = objects[0].properties
    return f


class Row:
    def __init__(self, name, flat, required):
        self.name = name
        self.flat = flat
        self.required = required


def body_rows(spec, op, where):
    content = spec.deref(op["requestBody"]).get("content") or {}
    for media in ("application/json", "multipart/form-data"):
        if media in content:
            schema = content[media]["schema"]
            break
    else:
        raise SystemExit("gen_call_rules: %s has no JSON or multipart body" % where)
    body = spec.flatten(schema)
    if not body.properties:
        raise SystemExit("gen_call_rules: %s: the body schema has no properties" % where)
    rows = []
    for name, sch in body.properties.items():
        rows.append(Row(name, spec.flatten(sch), name in body.required))
    return rows


def parameter_rows(spec, op, path_item):
    rows = []
    params = list(path_item.get("parameters") or []) + list(op.get("parameters") or [])
    for p in params:
        p = spec.deref(p)
        if p.get("in") not in ("path", "query"):
            continue
        flat = spec.flatten(p.get("schema") or {})
        rows.append(Row(p["name"], flat, p.get("in") == "path" or p.get("required") is True))
    return rows


def c_string(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            raise SystemExit("gen_call_rules: a value outside printable ASCII: %r" % s)
    return '"' + "".join(out) + '"'


def c_number(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise SystemExit("gen_call_rules: a bound that is not a number: %r" % (x,))
    if isinstance(x, int) or float(x).is_integer():
        return "%d" % int(x)
    return repr(float(x))


def c_types(types):
    bits = [c for t, c in TYPE_BITS if t in types]
    if set(types) >= ALL_TYPES:
        return "kAnyType"
    return " | ".join(bits) if bits else "0"


def c_values(values):
    for v in values:
        if "|" in v:
            raise SystemExit("gen_call_rules: a value holds '|': %r" % v)
    return c_string("|".join(values))


def row_cpp(r):
    """One Field initializer, its members in declaration order."""
    f = r.flat
    types = set(f.types)
    parts = [".name = " + c_string(r.name), ".types = " + c_types(types) + (" | kBinary" if f.binary else "")]
    if r.required:
        parts.append(".required = true")
    numeric = bool(types & {"integer", "number"})
    lo = f.minimum if numeric else None
    hi = f.maximum if numeric else None
    bounds = []
    if lo is not None:
        bounds.append("kExclusiveMin" if lo[1] else "kMin")
    if hi is not None:
        bounds.append("kExclusiveMax" if hi[1] else "kMax")
    if bounds:
        parts.append(".bounds = " + " | ".join(bounds))
    if f.values is not None and "string" in types:
        parts.append(".values = " + c_values(f.values))
    if lo is not None:
        parts.append(".minimum = " + c_number(lo[0]))
    if hi is not None:
        parts.append(".maximum = " + c_number(hi[0]))
    if "array" in types:
        if f.min_items is not None:
            parts.append(".min_items = %d" % f.min_items)
        if f.max_items is not None:
            parts.append(".max_items = %d" % f.max_items)
    if "string" in types:
        if f.min_length is not None:
            parts.append(".min_length = %d" % f.min_length)
        if f.max_length is not None:
            parts.append(".max_length = %d" % f.max_length)
    if "array" in types:
        if not set(f.item_types) >= ALL_TYPES:
            parts.append(".item_types = " + c_types(f.item_types))
        if f.item_values is not None and "string" in f.item_types:
            parts.append(".item_values = " + c_values(f.item_values))
    return "{" + ", ".join(parts) + "}"


PREAMBLE = """\
// GENERATED by tools/gen_call_rules.py from %(spec)s
// (%(title)s %(version)s): DO NOT EDIT. Regenerate with
//   cmake --build <build-dir> --target call_rules
// The ctest call_rules.generated fails when this file is stale.
//
// llm_call's request checks for the endpoints the OpenAI description has:
// one row per top-level field of the request body (or, for an id-taking or
// listing call, its path and query parameters). src/core/validate_call.cpp
// walks these rows and adds what a schema cannot say (uploads, routing, ...).
// Included by validate_call.cpp and by tests/unit/call_rules_test.cpp.
#pragma once
#include <cstddef>

namespace literllm::call_rules {

// JSON types a value may have (bits).
inline constexpr unsigned kString = 1u << 0, kInteger = 1u << 1, kNumber = 1u << 2, kBoolean = 1u << 3,
                          kObject = 1u << 4, kArray = 1u << 5, kNull = 1u << 6;
inline constexpr unsigned kAnyType = kString | kInteger | kNumber | kBoolean | kObject | kArray | kNull;
// A file part (format: binary): a string on OpenAI's wire, an upload in llm_call.
inline constexpr unsigned kBinary = 1u << 7;
// Which numeric bounds apply (bits of Field::bounds).
inline constexpr unsigned kMin = 1u << 0, kMax = 1u << 1, kExclusiveMin = 1u << 2, kExclusiveMax = 1u << 3;

struct Field {
  const char* name;
  unsigned types = kAnyType;           // kNumber admits integers too
  bool required = false;
  unsigned bounds = 0;                 // kMin | kMax | kExclusiveMin | kExclusiveMax
  const char* values = nullptr;        // a string's allowed values, '|'-separated; nullptr: any
  double minimum = 0, maximum = 0;     // numbers, as bounds says
  int min_items = -1, max_items = -1;  // arrays; -1: none
  int min_length = -1, max_length = -1;  // strings, in characters; -1: none
  unsigned item_types = kAnyType;      // an array's items
  const char* item_values = nullptr;   // an array's string items: allowed values, '|'-separated
};

struct EndpointFields {
  const char* endpoint;  // as endpoint_name() spells it
  const char* method;    // where the description has it
  const char* path;
  const Field* fields;
  std::size_t count;
};

"""


def generate(spec_path):
    with open(spec_path, "rb") as fh:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(fh, Loader=loader)
    spec = Spec(doc)
    info = doc.get("info") or {}
    out = [PREAMBLE % {"spec": os.path.basename(spec_path), "title": info.get("title", "?"),
                       "version": info.get("version", "?")}]
    table = []
    total = 0
    for name, method, path in ENDPOINTS:
        item = (doc.get("paths") or {}).get(path)
        if not item or method not in item:
            raise SystemExit("gen_call_rules: the description has no %s %s (for %s)" % (method.upper(), path, name))
        op = item[method]
        where = "%s %s" % (method.upper(), path)
        rows = parameter_rows(spec, op, item)
        if "requestBody" in op:
            rows += body_rows(spec, op, where)
        names = [r.name for r in rows]
        if len(set(names)) != len(names):
            raise SystemExit("gen_call_rules: %s names a field twice" % where)
        ident = "k" + "".join(p.capitalize() for p in name.replace(".", "_").split("_")) + "Fields"
        if rows:
            out.append("// %s: %s %s\n" % (name, method.upper(), path))
            out.append("inline constexpr Field %s[] = {\n" % ident)
            for r in rows:
                out.append("    " + row_cpp(r) + ",\n")
            out.append("};\n\n")
            table.append('    {%s, %s, %s, %s, %d},\n' % (c_string(name), c_string(method.upper()), c_string(path),
                                                         ident, len(rows)))
        else:
            table.append('    {%s, %s, %s, nullptr, 0},\n' % (c_string(name), c_string(method.upper()), c_string(path)))
        total += len(rows)
    out.append("// %d endpoints, %d fields.\n" % (len(ENDPOINTS), total))
    out.append("inline constexpr EndpointFields kEndpoints[] = {\n")
    out += table
    out.append("};\n\n}  // namespace literllm::call_rules\n")
    return "".join(out)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    check = "--check" in argv
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    spec_path, out_path = args
    text = generate(spec_path)
    if not check:
        with open(out_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        return 0
    # --check: generate into a temporary file, compare it with the committed one.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="\n", suffix=".inc", delete=False) as tmp:
        tmp.write(text)
        tmp_path = tmp.name
    try:
        with open(tmp_path, "rb") as fh:
            fresh = fh.read()
        try:
            with open(out_path, "rb") as fh:
                committed = fh.read()
        except FileNotFoundError:
            committed = None
        if fresh == committed:
            print("%s is up to date with %s" % (out_path, spec_path))
            return 0
        print("%s is stale: regenerate it from %s (cmake --build <build-dir> --target call_rules)" %
              (out_path, spec_path))
        old = [] if committed is None else committed.decode("utf-8", "replace").splitlines(True)
        diff = list(difflib.unified_diff(old, fresh.decode("utf-8").splitlines(True), out_path, "generated"))
        sys.stdout.writelines(diff[:200])
        return 1
    finally:
        os.unlink(tmp_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
