#!/usr/bin/python3
"""Cross-checks literllm.api.json (the CMake parser's description of the
header) against what a real C parser, libclang, reads in the same header.

    clang_check.py HEADER API_JSON

Compared: every function (name, return type, parameter types and names, and
whether it has a doc comment), every callback typedef (the same), every enum
(enumerator names and values), the opaque handles. Any difference fails
(exit 1) naming it: a header construct the hand-written parser misreads fails
the build here, not in a binding generated from its output.
Runs with Debian's python3-clang-14 (/usr/bin/python3).
"""
import json
import sys

import clang.cindex as ci


def load_libclang():
    for lib in ("libclang-14.so.1", "libclang-14.so", "libclang.so.1"):
        try:
            ci.Config.set_library_file("/usr/lib/llvm-14/lib/" + lib)
            ci.Index.create()
            return
        except Exception:
            ci.Config.loaded = False
    ci.Index.create()  # let cindex find it, or fail saying why


def norm_type(t):
    """A type's spelling in one canonical form: "const char *" style."""
    s = t.replace("\t", " ")
    s = " ".join(s.split())
    s = s.replace(" *", "*").replace("*", " *").replace("* *", "**").replace("**", "* *")
    s = " ".join(s.split())
    s = s.replace("struct ", "").replace("enum ", "")
    return "unsigned int" if s == "unsigned" else s


def clang_view(header):
    index = ci.Index.create()
    tu = index.parse(header, args=["-x", "c", "-std=c99", "-fparse-all-comments"])
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        raise SystemExit("clang_check: libclang cannot parse %s: %s" % (header, errors[0].spelling))
    funcs, callbacks, enums, handles = {}, {}, {}, set()
    for c in tu.cursor.get_children():
        if c.location.file is None or c.location.file.name != header:
            continue
        if c.kind == ci.CursorKind.FUNCTION_DECL:
            funcs[c.spelling] = {
                "returns": norm_type(c.result_type.spelling),
                "params": [(norm_type(a.type.spelling), a.spelling) for a in c.get_arguments()],
                "doc": bool(c.raw_comment),
            }
        elif c.kind == ci.CursorKind.TYPEDEF_DECL:
            under = c.underlying_typedef_type
            if under.kind == ci.TypeKind.POINTER and under.get_pointee().kind == ci.TypeKind.FUNCTIONPROTO:
                proto = under.get_pointee()
                names = [p.spelling for p in c.get_children() if p.kind == ci.CursorKind.PARM_DECL]
                callbacks[c.spelling] = {
                    "returns": norm_type(proto.get_result().spelling),
                    "params": [(norm_type(t.spelling), n) for t, n in zip(proto.argument_types(), names)],
                }
            elif under.kind == ci.TypeKind.ELABORATED:
                decl = under.get_declaration()
                if decl.kind == ci.CursorKind.STRUCT_DECL and not list(decl.get_children()):
                    handles.add(c.spelling)
                elif decl.kind == ci.CursorKind.ENUM_DECL:
                    enums[c.spelling] = [(v.spelling, v.enum_value) for v in decl.get_children()
                                         if v.kind == ci.CursorKind.ENUM_CONSTANT_DECL]
    return funcs, callbacks, enums, handles


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    header, api_path = argv[1], argv[2]
    load_libclang()
    with open(api_path, encoding="utf-8") as f:
        api = json.load(f)
    funcs, callbacks, enums, handles = clang_view(header)
    problems = []

    def sig(entry):
        return norm_type(entry["returns"]["type"]), [(norm_type(p["type"]), p["name"]) for p in entry["params"]]

    api_funcs = {f["name"]: f for f in api["functions"]}
    for name in sorted(set(funcs) | set(api_funcs)):
        if name not in api_funcs:
            problems.append("function %s: libclang reads it, the CMake parser does not" % name)
            continue
        if name not in funcs:
            problems.append("function %s: the CMake parser reads it, libclang does not" % name)
            continue
        returns, params = sig(api_funcs[name])
        if returns != funcs[name]["returns"]:
            problems.append("function %s: returns %r (CMake) vs %r (libclang)" % (name, returns, funcs[name]["returns"]))
        if params != funcs[name]["params"]:
            problems.append("function %s: parameters %r (CMake) vs %r (libclang)" % (name, params, funcs[name]["params"]))
        if funcs[name]["doc"] and not api_funcs[name]["doc"]:
            problems.append("function %s: libclang finds its doc comment, the CMake parser does not" % name)

    # A declaration with no comment of its own shares the one of the declaration
    # on the line above (the CMake parser's documented rule; libclang gives it none).
    prev_doc = ""
    for f in api["functions"]:
        if f["name"] in funcs and f["doc"] and not funcs[f["name"]]["doc"] and f["doc"] != prev_doc:
            problems.append("function %s: the CMake parser gives it a doc comment libclang does not see" % f["name"])
        prev_doc = f["doc"]

    api_cbs = {c["name"]: c for c in api["callbacks"]}
    for name in sorted(set(callbacks) | set(api_cbs)):
        if name not in api_cbs or name not in callbacks:
            problems.append("callback %s: read by %s only" % (name, "libclang" if name in callbacks else "CMake"))
            continue
        returns, params = sig(api_cbs[name])
        if (returns, params) != (callbacks[name]["returns"], callbacks[name]["params"]):
            problems.append("callback %s: %r (CMake) vs %r (libclang)" % (name, (returns, params),
                                                                          (callbacks[name]["returns"], callbacks[name]["params"])))

    api_enums = {e["name"]: [(v["name"], v["value"]) for v in e["values"]] for e in api["enums"]}
    for name in sorted(set(enums) | set(api_enums)):
        if api_enums.get(name) != enums.get(name):
            problems.append("enum %s: %r (CMake) vs %r (libclang)" % (name, api_enums.get(name), enums.get(name)))

    api_handles = {h["name"] for h in api["handles"]}
    if api_handles != handles:
        problems.append("handles: %r (CMake) vs %r (libclang)" % (sorted(api_handles), sorted(handles)))

    for p in problems:
        print("clang_check: " + p, file=sys.stderr)
    if not problems:
        print("clang_check: %d functions, %d callbacks, %d enums, %d handles agree"
              % (len(funcs), len(callbacks), len(enums), len(handles)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
