// Mistral's OCR as the local upstream serves it (see ocr.hpp).
#include "ocr.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "anthropic.hpp"  // the shared helpers of handler.cpp
#include "auth/crypto.hpp"
#include "core/error.hpp"
#include "json_util.hpp"

namespace literllm::testing {

namespace {

std::string fnv1a_hex(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static const char* d = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = d[h & 15];
  return out;
}

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

}  // namespace

size_t upstream_ocr_page_count(std::string_view bytes, std::string_view type) {
  if (type != "application/pdf") return 1;
  size_t n = 0;
  for (std::string_view key : {"/Type /Page", "/Type/Page"}) {
    for (size_t at = bytes.find(key); at != std::string_view::npos; at = bytes.find(key, at + 1)) {
      const size_t end = at + key.size();
      if (end < bytes.size() && bytes[end] == 's') continue;  // /Type /Pages: the page tree
      ++n;
    }
  }
  return std::max<size_t>(n, 1);
}

std::string upstream_ocr_markdown(std::string_view bytes_or_url, std::string_view type, size_t index, size_t pages) {
  std::string what = type.empty() ? "The document at " + std::string(bytes_or_url)
                                  : std::to_string(bytes_or_url.size()) + " bytes of " + std::string(type) +
                                        ", fnv1a " + fnv1a_hex(bytes_or_url) + ", beginning " +
                                        hex(bytes_or_url.substr(0, 8));
  return "# Page " + std::to_string(index + 1) + " of " + std::to_string(pages) + "\n\n" + what + "\n\n";
}

namespace detail {

namespace {

using rapidjson::Value;
using namespace json_util;

// Mistral's validation answer: 422 {"object": "error", "message": {"detail":
// [{"type", "loc": ["body", ...], "msg", "input"}]}, "type":
// "invalid_request_error", "param": null, "code": null}.
Plan invalid_422(std::string_view type, const std::vector<std::string>& loc, std::string_view msg,
                 const Value* input) {
  return shared::json_plan(422, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("object");
                             w.String("error");
                             w.Key("message");
                             w.StartObject();
                             w.Key("detail");
                             w.StartArray();
                             w.StartObject();
                             w.Key("type");
                             put(w, type);
                             w.Key("loc");
                             w.StartArray();
                             w.String("body");
                             for (auto& l : loc) put(w, l);
                             w.EndArray();
                             w.Key("msg");
                             put(w, msg);
                             w.Key("input");
                             if (input)
                               input->Accept(w);
                             else
                               w.Null();
                             w.EndObject();
                             w.EndArray();
                             w.EndObject();
                             w.Key("type");
                             w.String("invalid_request_error");
                             w.Key("param");
                             w.Null();
                             w.Key("code");
                             w.Null();
                             w.EndObject();
                           }));
}

// Mistral's other errors: {"object": "error", "message", "type", "param": null, "code"}.
Plan mistral_error(int status, std::string_view message, std::string_view type, std::string_view code = {}) {
  return shared::json_plan(status, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("object");
                             w.String("error");
                             w.Key("message");
                             put(w, message);
                             w.Key("type");
                             put(w, type);
                             w.Key("param");
                             w.Null();
                             w.Key("code");
                             if (code.empty())
                               w.Null();
                             else
                               put(w, code);
                             w.EndObject();
                           }));
}

const std::set<std::string_view> kModels = {"mistral-ocr-latest", "mistral-ocr-2503", "mistral-ocr-2505",
                                            "mistral-ocr-2512"};

std::string ext_type(std::string_view name) {
  size_t q = name.find_first_of("?#");
  name = name.substr(0, q);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(name.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "pdf") return "application/pdf";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "webp") return "image/webp";
  if (ext == "gif") return "image/gif";
  if (ext == "avif") return "image/avif";
  if (ext == "docx") return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  if (ext == "pptx") return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
  return {};
}

// Whether `bytes` look like `type` (the formats whose magic number is plain).
bool looks_like(std::string_view bytes, std::string_view type) {
  auto starts = [&](std::string_view m) { return bytes.substr(0, m.size()) == m; };
  if (type == "application/pdf") return starts("%PDF-");
  if (type == "image/png") return starts("\x89PNG\r\n\x1a\n");
  if (type == "image/jpeg") return starts("\xff\xd8\xff");
  if (type == "image/gif") return starts("GIF8");
  if (type == "image/webp") return bytes.size() >= 12 && starts("RIFF") && bytes.substr(8, 4) == "WEBP";
  return true;
}

struct Document {
  std::string bytes;  // the decoded document (empty for a URL)
  std::string url;    // an http(s) URL, not fetched
  std::string type;   // its media type
  bool image = false;
};

uint32_t be32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

}  // namespace

Plan mistral_ocr(const RecordedRequest& req,
                 const std::function<bool(std::string_view id, std::string& bytes, std::string& filename)>& file) {
  rapidjson::Document d;
  d.Parse(req.body.c_str(), req.body.size());
  if (d.HasParseError()) return invalid_422("json_invalid", {"0"}, "JSON decode error", nullptr);
  if (!d.IsObject())
    return invalid_422("model_attributes_type", {}, "Input should be a valid dictionary or object to extract fields from",
                       &d);
  static const std::set<std::string_view> kFields = {
      "model", "id", "document", "pages", "include_image_base64", "image_limit", "image_min_size",
      "bbox_annotation_format", "document_annotation_format", "document_annotation_prompt", "table_format",
      "extract_header", "extract_footer", "include_blocks", "confidence_scores_granularity"};
  for (auto& m : d.GetObject())
    if (!kFields.count(sv(m.name)))
      return invalid_422("extra_forbidden", {std::string(sv(m.name))}, "Extra inputs are not permitted", &m.value);
  // Types.
  const Value* model = find(d, "model");
  if (!model) return invalid_422("missing", {"model"}, "Field required", &d);
  if (!model->IsString() && !model->IsNull())
    return invalid_422("string_type", {"model"}, "Input should be a valid string", model);
  for (const char* k : {"include_image_base64", "extract_header", "extract_footer", "include_blocks"})
    if (const Value* v = find(d, k); v && !v->IsBool() && !v->IsNull())
      return invalid_422("bool_type", {k}, "Input should be a valid boolean", v);
  for (const char* k : {"image_limit", "image_min_size"})
    if (const Value* v = find(d, k); v && !v->IsInt64() && !v->IsNull())
      return invalid_422("int_type", {k}, "Input should be a valid integer", v);
  if (const Value* v = find(d, "table_format"); v && !v->IsNull() &&
                                                 (!v->IsString() || (sv(*v) != "markdown" && sv(*v) != "html")))
    return invalid_422("literal_error", {"table_format"}, "Input should be 'markdown' or 'html'", v);
  if (const Value* v = find(d, "confidence_scores_granularity");
      v && !v->IsNull() && (!v->IsString() || (sv(*v) != "word" && sv(*v) != "page")))
    return invalid_422("literal_error", {"confidence_scores_granularity"}, "Input should be 'word' or 'page'", v);
  // pages: a list of integers or a string of numbers and ranges ("0,2-4").
  std::optional<std::vector<int64_t>> wanted;
  if (const Value* p = find(d, "pages"); p && !p->IsNull()) {
    std::vector<int64_t> list;
    if (p->IsArray()) {
      for (rapidjson::SizeType i = 0; i < p->Size(); ++i) {
        if (!(*p)[i].IsInt64())
          return invalid_422("int_type", {"pages", std::to_string(i)}, "Input should be a valid integer", &(*p)[i]);
        list.push_back((*p)[i].GetInt64());
      }
    } else if (p->IsString()) {
      std::string_view s = sv(*p);
      auto bad = [&] {
        return invalid_422("value_error", {"pages"},
                           "Value error, pages must be comma-separated page numbers or ranges (e.g. '0,2-4')", p);
      };
      while (!s.empty()) {
        size_t comma = s.find(',');
        std::string_view item = shared::trim(s.substr(0, comma));
        size_t dash = item.find('-');
        auto number = [](std::string_view t, int64_t& out) {
          t = shared::trim(t);
          if (t.empty() || t.size() > 9 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
          out = std::stoll(std::string(t));
          return true;
        };
        int64_t lo = 0, hi = 0;
        if (!number(item.substr(0, dash), lo)) return bad();
        hi = lo;
        if (dash != std::string_view::npos && !number(item.substr(dash + 1), hi)) return bad();
        if (hi < lo || hi - lo > 10000) return bad();
        for (int64_t x = lo; x <= hi; ++x) list.push_back(x);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
      }
    } else {
      return invalid_422("list_type", {"pages"}, "Input should be a valid list or string", p);
    }
    wanted = std::move(list);
  }
  // The document: a file, document_url or image_url chunk.
  const Value* doc = find(d, "document");
  if (!doc) return invalid_422("missing", {"document"}, "Field required", &d);
  if (!doc->IsObject())
    return invalid_422("model_attributes_type", {"document"},
                       "Input should be a valid dictionary or object to extract fields from", doc);
  std::string tag(string_member(*doc, "type"));
  if (tag.empty() && !find(*doc, "type")) {
    tag = find(*doc, "file_id") ? "file" : find(*doc, "image_url") ? "image_url" : "document_url";
  } else if (tag != "file" && tag != "document_url" && tag != "image_url") {
    return invalid_422("union_tag_invalid", {"document"},
                       "Input tag '" + tag + "' found using 'type' does not match any of the expected tags: 'file', "
                       "'document_url', 'image_url'",
                       doc);
  }
  const std::set<std::string_view> fields = tag == "file"           ? std::set<std::string_view>{"type", "file_id"}
                                            : tag == "document_url" ? std::set<std::string_view>{"type", "document_url", "document_name"}
                                                                    : std::set<std::string_view>{"type", "image_url"};
  for (auto& m : doc->GetObject())
    if (!fields.count(sv(m.name)))
      return invalid_422("extra_forbidden", {"document", tag, std::string(sv(m.name))}, "Extra inputs are not permitted",
                         &m.value);
  Document src;
  std::string url;
  if (tag == "file") {
    const Value* id = find(*doc, "file_id");
    if (!id) return invalid_422("missing", {"document", tag, "file_id"}, "Field required", doc);
    if (!id->IsString()) return invalid_422("string_type", {"document", tag, "file_id"}, "Input should be a valid string", id);
    std::string name;
    if (!file || !file(sv(*id), src.bytes, name))
      return mistral_error(404, "File " + std::string(sv(*id)) + " not found", "invalid_request_error");
    src.type = ext_type(name);
    if (src.type.empty()) return mistral_error(400, "Unsupported file type: " + name, "invalid_request_error");
  } else {
    const Value* u = find(*doc, tag.c_str());
    if (!u) return invalid_422("missing", {"document", tag, tag}, "Field required", doc);
    if (tag == "image_url" && u->IsObject()) u = find(*u, "url");
    if (!u || !u->IsString())
      return invalid_422("string_type", {"document", tag, tag}, "Input should be a valid string", u ? u : doc);
    url = std::string(sv(*u));
  }
  if (!url.empty()) {
    if (url.rfind("data:", 0) == 0) {
      const size_t comma = url.find(',');
      const std::string_view meta = std::string_view(url).substr(5, comma == std::string::npos ? 0 : comma - 5);
      const std::string suffix = ";base64";
      if (comma == std::string::npos || meta.size() <= suffix.size() ||
          meta.substr(meta.size() - suffix.size()) != suffix)
        return mistral_error(400, "Invalid " + tag + ": a data URL must be data:<media type>;base64,<data>",
                             "invalid_request_error");
      src.type = std::string(meta.substr(0, meta.size() - suffix.size()));
      try {
        src.bytes = auth::base64_decode(std::string_view(url).substr(comma + 1), "the data URL");
      } catch (const Error&) {
        return mistral_error(400, "Invalid " + tag + ": the data URL's base64 does not decode", "invalid_request_error");
      }
      if (src.bytes.empty()) return mistral_error(400, "Invalid " + tag + ": the document is empty", "invalid_request_error");
    } else if (url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0) {
      src.url = url;
      src.type = ext_type(url);
      if (src.type.empty()) src.type = tag == "image_url" ? "image/jpeg" : "application/pdf";
    } else {
      return mistral_error(400, "Invalid " + tag + ": expected an http(s) URL or a data URL", "invalid_request_error");
    }
  }
  src.image = src.type.rfind("image/", 0) == 0;
  if (tag == "image_url" && !src.image)
    return mistral_error(400, "Invalid image_url: " + src.type + " is not an image", "invalid_request_error");
  if (src.url.empty() && !looks_like(src.bytes, src.type))
    return mistral_error(400, "The document could not be read as " + src.type, "invalid_request_error");
  // The model, once the body is well formed.
  if (model->IsString() && !kModels.count(sv(*model)))
    return mistral_error(400, "Invalid model: " + std::string(sv(*model)), "invalid_model", "1500");
  const size_t total = src.url.empty() ? upstream_ocr_page_count(src.bytes, src.type)
                                       : (src.type == "application/pdf" ? 3 : 1);
  std::vector<size_t> pages;
  if (wanted) {
    for (int64_t p : *wanted) {
      if (p < 0 || static_cast<uint64_t>(p) >= total)
        return mistral_error(400,
                             "Page " + std::to_string(p) + " is out of range: the document has " +
                                 std::to_string(total) + " page" + (total == 1 ? "" : "s") + " (0-" +
                                 std::to_string(total - 1) + ")",
                             "invalid_request_error");
      if (std::find(pages.begin(), pages.end(), static_cast<size_t>(p)) == pages.end())
        pages.push_back(static_cast<size_t>(p));
    }
    std::sort(pages.begin(), pages.end());
  } else {
    for (size_t i = 0; i < total; ++i) pages.push_back(i);
  }
  const Value* inc = find(d, "include_image_base64");
  const bool with_images = inc && inc->IsBool() && inc->GetBool();
  // Dimensions: a PNG's own (IHDR), else an image's 1024x768 at 72 dpi, a page's 1700x2200 at 200.
  int64_t width = src.image ? 1024 : 1700, height = src.image ? 768 : 2200, dpi = src.image ? 72 : 200;
  if (src.type == "image/png" && src.bytes.size() >= 24) {
    width = be32(src.bytes, 16);
    height = be32(src.bytes, 20);
  }
  const std::string_view what = src.url.empty() ? std::string_view(src.bytes) : std::string_view(src.url);
  const std::string_view what_type = src.url.empty() ? std::string_view(src.type) : std::string_view();
  return shared::json_plan(200, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("pages");
                             w.StartArray();
                             for (size_t i : pages) {
                               const std::string image_id = "img-" + std::to_string(i) + ".jpeg";
                               w.StartObject();
                               w.Key("index");
                               w.Uint64(i);
                               w.Key("markdown");
                               put(w, upstream_ocr_markdown(what, what_type, i, total) + "![" + image_id + "](" +
                                          image_id + ")");
                               w.Key("images");
                               w.StartArray();
                               w.StartObject();
                               w.Key("id");
                               put(w, image_id);
                               w.Key("top_left_x");
                               w.Int(100);
                               w.Key("top_left_y");
                               w.Int(200);
                               w.Key("bottom_right_x");
                               w.Int(300);
                               w.Key("bottom_right_y");
                               w.Int(400);
                               w.Key("image_base64");
                               if (with_images)
                                 put(w, "data:image/jpeg;base64," +
                                            auth::base64_encode("\xff\xd8\xff\xe0 page " + std::to_string(i)));
                               else
                                 w.Null();
                               w.EndObject();
                               w.EndArray();
                               w.Key("dimensions");
                               w.StartObject();
                               w.Key("dpi");
                               w.Int64(dpi);
                               w.Key("height");
                               w.Int64(height);
                               w.Key("width");
                               w.Int64(width);
                               w.EndObject();
                               w.EndObject();
                             }
                             w.EndArray();
                             w.Key("model");
                             put(w, model->IsString() ? sv(*model) : "mistral-ocr-latest");
                             w.Key("document_annotation");
                             w.Null();
                             w.Key("usage_info");
                             w.StartObject();
                             w.Key("pages_processed");
                             w.Uint64(pages.size());
                             w.Key("doc_size_bytes");
                             if (src.url.empty())
                               w.Uint64(src.bytes.size());
                             else
                               w.Null();
                             w.EndObject();
                             w.EndObject();
                           }));
}

}  // namespace detail
}  // namespace literllm::testing
