// The local upstream's multipart/form-data parser (tests/upstream/multipart.hpp):
// the boundary from a Content-Type, and the edge cases of RFC 2046's syntax.
#include <gtest/gtest.h>

#include "multipart.hpp"

namespace mp = literllm::testing::multipart;

namespace {

std::vector<mp::Part> parse_ok(std::string_view body, std::string_view boundary) {
  std::vector<mp::Part> parts;
  std::string error;
  EXPECT_TRUE(mp::parse(body, boundary, parts, error)) << error;
  return parts;
}

std::string parse_error(std::string_view body, std::string_view boundary) {
  std::vector<mp::Part> parts;
  std::string error;
  EXPECT_FALSE(mp::parse(body, boundary, parts, error));
  return error;
}

}  // namespace

TEST(UpstreamMultipart, BoundaryFromContentType) {
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(mp::boundary_of("Multipart/Form-Data;BOUNDARY=\"a b:c\""), "a b:c");
  EXPECT_EQ(mp::boundary_of("multipart/form-data; charset=utf-8; boundary=------------------------d74496d66958873e"),
            "------------------------d74496d66958873e");
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary=\"q\\\"x\""), std::nullopt);  // '"' is no boundary char
  EXPECT_EQ(mp::boundary_of("multipart/form-data"), std::nullopt);
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(mp::boundary_of("multipart/mixed; boundary=abc"), std::nullopt);
  EXPECT_EQ(mp::boundary_of("application/json"), std::nullopt);
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary=" + std::string(71, 'x')), std::nullopt);
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary=" + std::string(70, 'x')), std::string(70, 'x'));
  EXPECT_EQ(mp::boundary_of("multipart/form-data; boundary=\"unterminated"), std::nullopt);
}

TEST(UpstreamMultipart, FieldsAndAFileWithBinaryBytes) {
  const std::string data("RIFF\0\0\r\n--notquite\r\n-XYZ\0end", 27);
  const std::string body = "--XYZ\r\n"
                           "Content-Disposition: form-data; name=\"model\"\r\n\r\n"
                           "whisper-1\r\n"
                           "--XYZ\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                           "Content-Type: audio/wav\r\n\r\n" +
                           data +
                           "\r\n--XYZ--\r\n";
  auto parts = parse_ok(body, "XYZ");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "model");
  EXPECT_FALSE(parts[0].filename);
  EXPECT_EQ(parts[0].data, "whisper-1");
  EXPECT_EQ(parts[0].content_type, "");
  EXPECT_EQ(parts[1].name, "file");
  EXPECT_EQ(*parts[1].filename, "a.wav");
  EXPECT_EQ(parts[1].content_type, "audio/wav");
  EXPECT_EQ(parts[1].data, data);  // NULs, CRLFs and "--" lines that are not the delimiter kept
  EXPECT_EQ(parts[1].headers.size(), 2u);
}

TEST(UpstreamMultipart, PreambleEpilogueEmptyPartsPaddingAndLfHeaders) {
  const std::string body = "a preamble to ignore\r\n--b  \t\r\n"
                           "content-disposition: form-data; name=empty\n\n"
                           "\r\n--b\r\n"
                           "Content-Disposition: form-data; name=\"x\"\r\n\r\n"
                           "1\r\n--b--\r\nan epilogue, also ignored --b\r\n";
  auto parts = parse_ok(body, "b");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].name, "empty");
  EXPECT_EQ(parts[0].data, "");
  EXPECT_EQ(parts[1].name, "x");
  EXPECT_EQ(parts[1].data, "1");
}

TEST(UpstreamMultipart, QuotedAndExtendedFilenames) {
  const std::string body = "--b\r\n"
                           "Content-Disposition: form-data; name=\"f\"; filename=\"say \\\"hi\\\"; ok.mp3\"\r\n\r\n"
                           "x\r\n--b\r\n"
                           "Content-Disposition: form-data; name=\"g\"; filename=\"plain.mp3\"; "
                           "filename*=UTF-8''caf%C3%A9.mp3\r\n\r\n"
                           "y\r\n--b\r\n"
                           "Content-Disposition: form-data; name=\"h\"; filename=\"\"\r\n\r\n"
                           "z\r\n--b--";
  auto parts = parse_ok(body, "b");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(*parts[0].filename, "say \"hi\"; ok.mp3");  // a ';' inside quotes is no separator
  EXPECT_EQ(*parts[1].filename, "caf\xC3\xA9.mp3");     // filename* wins
  ASSERT_TRUE(parts[2].filename);                       // present, though empty
  EXPECT_EQ(*parts[2].filename, "");
}

TEST(UpstreamMultipart, MalformedBodiesSayWhy) {
  EXPECT_NE(parse_error("no delimiter here", "b").find("no delimiter"), std::string::npos);
  EXPECT_NE(parse_error("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue", "b").find("closing delimiter"),
            std::string::npos);
  EXPECT_NE(parse_error("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n", "b").find("headers do not end"),
            std::string::npos);
  EXPECT_NE(parse_error("--b\r\nno colon\r\n\r\nx\r\n--b--", "b").find("without a name"), std::string::npos);
  EXPECT_NE(parse_error("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b").find("no Content-Disposition"),
            std::string::npos);
  EXPECT_NE(parse_error("--b\r\nContent-Disposition: attachment; name=\"x\"\r\n\r\nx\r\n--b--", "b").find("not form-data"),
            std::string::npos);
  EXPECT_NE(parse_error("--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--b--", "b").find("no name"),
            std::string::npos);
  // A delimiter followed by something other than a line end or "--".
  EXPECT_NE(parse_error("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--bogus\r\n", "b")
                .find("not followed by a line end"),
            std::string::npos);
}
