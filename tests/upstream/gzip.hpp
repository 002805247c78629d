// Internal to the local upstream: gzip for `x-upstream-gzip` (zlib). The
// server compresses answers as it writes them; the handler makes the gzip bomb.
#pragma once
#include <zlib.h>

#include <string>
#include <string_view>

namespace literllm::testing::detail {

// One gzip stream (header, deflate data, trailer), fed piece by piece.
class Gzip {
 public:
  explicit Gzip(int level = Z_DEFAULT_COMPRESSION);
  ~Gzip();
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;

  // Compresses `in` onto `out`. Z_SYNC_FLUSH: everything so far decodes at
  // once (a stream's event reaches the client whole); Z_FINISH: the end, with
  // the gzip trailer.
  void deflate(std::string_view in, std::string& out, int flush);

 private:
  z_stream z_{};
};

// A whole body, compressed in one go.
std::string gzip(std::string_view body);

// An endless gzip stream of `event` repeated: `head` once, then `block` over
// and over. Each block decodes to about 1 MiB of whole events from a few KiB.
struct GzipBomb {
  std::string head, block;
};
GzipBomb make_gzip_bomb(std::string_view event);

}  // namespace literllm::testing::detail
