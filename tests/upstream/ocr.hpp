// Internal to the local upstream: Mistral's OCR (POST /v1/ocr), checking its
// request as api.mistral.ai does (422 {"object": "error", "message":
// {"detail": [...]}} for a malformed one, 400 for an unknown model or a
// document that does not decode) and answering in its shape: {"pages":
// [{"index", "markdown", "images", "dimensions": {"dpi", "height", "width"}}],
// "model", "document_annotation", "usage_info": {"pages_processed",
// "doc_size_bytes"}}.
//
// What it "reads" is deterministic, so a test can compute the answer:
//   - a data URL (document_url or image_url): the decoded bytes; a PDF has as
//     many pages as it has "/Type /Page" objects (at least one), anything
//     else one page;
//   - an http(s) URL: not fetched; three pages for a path ending in .pdf,
//     else one;
//   - a file chunk: the bytes of a file uploaded to /v1/files.
// Each page's markdown is upstream_ocr_markdown(...), followed by a reference
// to its one image ("![img-<index>.jpeg](img-<index>.jpeg)"), whose
// image_base64 is filled when include_image_base64 is true.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "handler.hpp"

namespace literllm::testing {

// The pages the OCR route sees in `bytes` of media type `type`.
size_t upstream_ocr_page_count(std::string_view bytes, std::string_view type);

// The markdown of page `index` (0-based) of `pages`, before its image
// reference: "# Page <index+1> of <pages>\n\n<what>\n\n" where <what> is
// "<n> bytes of <type>, fnv1a <16 hex digits>, beginning <hex of the first 8
// bytes>" for bytes, and "The document at <url>" for a URL (`type` empty).
std::string upstream_ocr_markdown(std::string_view bytes_or_url, std::string_view type, size_t index, size_t pages);

namespace detail {

// POST /v1/ocr. `file` finds an uploaded file's bytes and name by id (false: none).
Plan mistral_ocr(const RecordedRequest& req,
                 const std::function<bool(std::string_view id, std::string& bytes, std::string& filename)>& file);

}  // namespace detail
}  // namespace literllm::testing
