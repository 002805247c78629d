#include "gzip.hpp"

#include <algorithm>
#include <stdexcept>

namespace literllm::testing::detail {

Gzip::Gzip(int level) {
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("local upstream: deflateInit2 failed");
}

Gzip::~Gzip() { deflateEnd(&z_); }

void Gzip::deflate(std::string_view in, std::string& out, int flush) {
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z_.avail_in = static_cast<uInt>(in.size());
  // A flush is complete once deflate leaves room in the output: until then it has more to give.
  do {
    size_t at = out.size();
    size_t room = std::max<size_t>(deflateBound(&z_, z_.avail_in), 4096);
    out.resize(at + room);
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z_.avail_out = static_cast<uInt>(room);
    ::deflate(&z_, flush);
    out.resize(at + room - z_.avail_out);
  } while (z_.avail_out == 0);
}

std::string gzip(std::string_view body) {
  std::string out;
  Gzip(Z_DEFAULT_COMPRESSION).deflate(body, out, Z_FINISH);
  return out;
}

GzipBomb make_gzip_bomb(std::string_view event) {
  std::string input;
  size_t copies = std::max<size_t>(1, (1u << 20) / event.size());
  input.reserve(copies * event.size());
  for (size_t i = 0; i < copies; ++i) input += event;
  // Across a sync flush the decoder carries nothing but the last 32 KiB it
  // produced, and that window is the same after every copy of the input. So
  // the second round's output, made with that window behind it, decodes the
  // same however many times it follows the first (zlib even emits the same
  // bytes for the third round).
  Gzip z(Z_BEST_COMPRESSION);
  GzipBomb bomb;
  z.deflate(input, bomb.head, Z_SYNC_FLUSH);
  z.deflate(input, bomb.block, Z_SYNC_FLUSH);
  return bomb;
}

}  // namespace literllm::testing::detail
