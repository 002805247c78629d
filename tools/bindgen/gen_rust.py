"""Rust raw layer: bindings/rust/literllm-sys/src/lib.rs.

Writes the extern "C" block (every header function), the status newtype with
one constant per value, the opaque handle types, the callback types and the
integer #define constants, each with the header's doc comment.
"""
import bindgen

OUT = "bindings/rust/literllm-sys/src/lib.rs"
# bindings/rust/rustfmt.toml's max_width: the output is what rustfmt keeps.
MAX_WIDTH = 120

_PRIMS = {
    "void": "c_void",
    "char": "c_char",
    "short": "c_short",
    "int": "c_int",
    "long": "c_long",
    "unsigned": "c_uint",
    "signed": "c_int",
    "float": "f32",
    "double": "f64",
    "_Bool": "bool",
    "bool": "bool",
    "size_t": "usize",
    "ptrdiff_t": "isize",
    "intptr_t": "isize",
    "uintptr_t": "usize",
    "int8_t": "i8",
    "int16_t": "i16",
    "int32_t": "i32",
    "int64_t": "i64",
    "uint8_t": "u8",
    "uint16_t": "u16",
    "uint32_t": "u32",
    "uint64_t": "u64",
}

_KEYWORDS = {"type", "match", "ref", "fn", "impl", "mod", "move", "self", "struct", "use", "where", "loop", "in"}


def _doc(text, indent=""):
    if not text:
        return ""
    out = []
    # Markdown would read [X] as a link and <x> as HTML.
    for c in "[]<>":
        text = text.replace(c, "\\" + c)
    for line in text.split("\n"):
        line = line.rstrip()
        out.append(f"{indent}///{(' ' + line) if line else ''}\n")
    return "".join(out)


def _type(t):
    base = t["base"]
    kind = t["kind"]
    if kind in ("handle", "enum", "callback", "struct", "alias"):
        rust = base
    elif base in _PRIMS:
        rust = _PRIMS[base]
    else:
        raise ValueError(f"gen_rust: no Rust type for C type {t['type']!r}")
    depth = t["pointer_depth"]
    if depth == 0:
        if rust == "c_void":
            return "()"
        return rust
    # "const" qualifies the innermost pointee; a "const" after the k-th "*"
    # (as in `const void *const *`) makes the pointer at that level const,
    # so the pointer one level out points to const.
    rust = ("*const " if t["const"] else "*mut ") + rust
    levels = t["type"].split("*")
    for k in range(1, depth):
        rust = ("*const " if "const" in levels[k].split() else "*mut ") + rust
    return rust


def _name(n):
    return f"r#{n}" if n in _KEYWORDS else n


def _params(params):
    return ", ".join(f"{_name(p['name'])}: {_type(p)}" for p in params)


def _params_lines(params, indent):
    return "".join(f"{indent}{_name(p['name'])}: {_type(p)},\n" for p in params)


def _ret(t):
    r = _type(t)
    return "" if r == "()" else f" -> {r}"


def generate(api):
    s = []
    s.append(f"// {bindgen.GENERATED_NOTE}\n")
    s.append("//! Raw declarations of libliterllm's C API (include/literllm.h).\n")
    s.append("//!\n//! Everything here is `unsafe` to call; the `literllm` crate is the safe layer.\n")
    s.append("#![allow(non_camel_case_types, non_upper_case_globals)]\n")
    s.append("#![allow(clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, clippy::tabs_in_doc_comments)]\n\n")
    s.append("pub use std::os::raw::{c_char, c_int, c_long, c_short, c_uint, c_void};\n\n")

    for c in api["constants"]:
        if isinstance(c["value"], int):
            s.append(f"/// `#define {c['name']} {c['expression']}`\n")
            s.append(f"pub const {c['name']}: i64 = {c['value']};\n")
        else:
            lit = c["value"].replace("\\", "\\\\").replace('"', '\\"')
            s.append(f"pub const {c['name']}: &str = \"{lit}\";\n")
    s.append("\n")

    for e in api["enums"]:
        name = e["name"]
        s.append(_doc(e["doc"]) or f"/// The C enum `{name}`, as a newtype so that any value the library returns is valid.\n")
        s.append("#[repr(transparent)]\n#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]\n")
        s.append(f"pub struct {name}(pub c_uint);\n\n")
        for v in e["values"]:
            s.append(_doc(" ".join(x.strip() for x in v["doc"].split("\n"))))
            s.append(f"pub const {v['name']}: {name} = {name}({v['value']});\n")
        s.append(f"\nimpl {name} {{\n")
        s.append(f"    /// Every named value of `{name}`, in header order.\n")
        s.append(f"    pub const ALL: [{name}; {len(e['values'])}] = [\n")
        for v in e["values"]:
            s.append(f"        {v['name']},\n")
        s.append("    ];\n\n")
        s.append("    /// The value's name in the header, or None for a value it does not name.\n")
        s.append("    pub const fn name(self) -> Option<&'static str> {\n        match self.0 {\n")
        for v in e["values"]:
            s.append(f"            {v['value']} => Some(\"{v['name']}\"),\n")
        s.append("            _ => None,\n        }\n    }\n}\n\n")

    for h in api["handles"]:
        s.append(_doc(h["doc"]) or f"/// Opaque handle `{h['name']}` (`struct {h['tag']}`).\n")
        s.append("#[repr(C)]\n")
        s.append(f"pub struct {h['name']} {{\n")
        s.append("    _opaque: [u8; 0],\n")
        s.append("    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,\n}\n\n")

    for a in api.get("aliases", []):
        s.append(_doc(a["doc"]))
        s.append(f"pub type {a['name']} = {_type(a['type'])};\n\n")

    for cb in api["callbacks"]:
        s.append(_doc(cb["doc"]))
        line = f"pub type {cb['name']} = Option<unsafe extern \"C\" fn({_params(cb['params'])}){_ret(cb['returns'])}>;"
        if len(line) > MAX_WIDTH:
            # The layout rustfmt gives (rustfmt.toml: max_width = 120).
            line = (f"pub type {cb['name']} = Option<\n    unsafe extern \"C\" fn(\n"
                    + _params_lines(cb["params"], "        ")
                    + f"    ){_ret(cb['returns'])},\n>;")
        s.append(line + "\n\n")

    if api.get("structs"):
        raise ValueError("gen_rust: the header has structs; teach gen_rust.py to write them")

    s.append("extern \"C\" {\n")
    first = True
    for f in api["functions"]:
        if not first:
            s.append("\n")
        first = False
        s.append(_doc(f["doc"], "    "))
        line = f"    pub fn {f['name']}({_params(f['params'])}){_ret(f['returns'])};"
        if len(line) > MAX_WIDTH:
            line = f"    pub fn {f['name']}(\n" + _params_lines(f["params"], "        ") + f"    ){_ret(f['returns'])};"
        s.append(line + "\n")
    s.append("}\n")
    return {OUT: "".join(s)}


def declared(api):
    import os
    import re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = os.path.join(root, OUT)
    text = generate(api)[OUT]
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return set(re.findall(r"^\s*pub fn (\w+)\(", text, re.M))
