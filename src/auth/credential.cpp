#include "auth/credential.hpp"

namespace literllm::auth {

namespace {

class HeaderKey final : public Credential {
 public:
  HeaderKey(std::string header, std::string value) : header_(std::move(header)), value_(std::move(value)) {}
  // A header of that name set by the caller (config, extra_headers) is the
  // caller's credential, and stays.
  void apply(http::Request& req, std::chrono::system_clock::time_point) const override {
    req.secret_headers.push_back(header_);
    if (!http::find_header(req.headers, header_)) req.headers.emplace_back(header_, value_);
  }

 private:
  std::string header_, value_;
};

}  // namespace

void Credential::fetch(const Exchange&, std::chrono::system_clock::time_point, Fetched done) const { done(nullptr); }

std::shared_ptr<const Credential> header_key(std::string header, std::string prefix, std::string key) {
  return std::make_shared<HeaderKey>(std::move(header), prefix + key);
}

}  // namespace literllm::auth
