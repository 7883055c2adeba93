#include "telluride/http/request_parser.hpp"

#include <causeway/utf8.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

namespace telluride::http {

namespace {

std::string over(std::string_view what, std::size_t limit) {
  return std::string{what} + " over " + std::to_string(limit) + " bytes";
}

} // namespace

struct request_parser::callbacks {
  static request_parser& self(http_parser* p) { return *static_cast<request_parser*>(p->data); }

  // Counts bytes of the header block against its limit; false once past it.
  static bool count_header_bytes(request_parser& rp, std::size_t n) {
    rp.header_bytes_ += n;
    return rp.header_bytes_ <= rp.limits_.max_header_bytes;
  }

  // "METHOD SP target SP HTTP/x.y": http-parser accepts one digit on each side of the dot, so
  // the version is always 8 bytes and the line's length is known while the target arrives.
  static bool request_line_fits(const request_parser& rp) {
    return rp.method_bytes_ + 1 + rp.url_.size() + 1 + 8 <= rp.limits_.max_request_line_bytes;
  }

  static int on_message_begin(http_parser* p) {
    auto& rp = self(p);
    rp.current_ = request{};
    rp.url_.clear();
    rp.method_bytes_ = 0;
    rp.header_bytes_ = 0;
    rp.last_was_value_ = false;
    rp.in_message_ = true;
    rp.expects_continue_ = false;
    rp.continue_sent_ = false;
    return 0;
  }

  static int on_url(http_parser* p, const char* at, std::size_t n) {
    auto& rp = self(p);
    // The method is parsed before the target begins.
    rp.method_bytes_ = std::strlen(http_method_str(static_cast<http_method>(p->method)));
    rp.url_.append(at, n);
    if (!request_line_fits(rp))
      return rp.fail(414, over("request line", rp.limits_.max_request_line_bytes));
    return 0;
  }

  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    auto& rp = self(p);
    // Each header line costs at least ": " and CRLF beyond its name and value.
    if (!count_header_bytes(rp, n + (rp.last_was_value_ || rp.current_.headers.empty() ? 4 : 0)))
      return rp.fail(431, over("header block", rp.limits_.max_header_bytes));
    if (rp.last_was_value_ || rp.current_.headers.empty())
      rp.current_.headers.push_back({});
    rp.current_.headers.back().name.append(at, n);
    rp.last_was_value_ = false;
    return 0;
  }

  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    auto& rp = self(p);
    if (!count_header_bytes(rp, n))
      return rp.fail(431, over("header block", rp.limits_.max_header_bytes));
    rp.current_.headers.back().value.append(at, n);
    rp.last_was_value_ = true;
    return 0;
  }

  static int on_headers_complete(http_parser* p) {
    auto& rp = self(p);
    auto& req = rp.current_;
    req.method = http_method_str(static_cast<http_method>(p->method));
    req.http_major = p->http_major;
    req.http_minor = p->http_minor;
    http_parser_url url;
    http_parser_url_init(&url);
    if (!causeway::is_valid_utf8(rp.url_))
      return rp.fail(400, "request target is not valid UTF-8");
    if (p->method == HTTP_CONNECT
        || http_parser_parse_url(rp.url_.data(), rp.url_.size(), 0, &url) != 0
        || !(url.field_set & (1 << UF_PATH)))
      return rp.fail(400, "bad request target");
    auto field = [&](http_parser_url_fields f) {
      return rp.url_.substr(url.field_data[f].off, url.field_data[f].len);
    };
    req.path = field(UF_PATH);
    if (url.field_set & (1 << UF_QUERY))
      req.query = field(UF_QUERY);
    // http-parser leaves content_length at its "unset" value when no Content-Length came.
    if (p->content_length != std::numeric_limits<std::uint64_t>::max()
        && p->content_length > rp.limits_.max_body_bytes)
      return rp.fail(413, over("body", rp.limits_.max_body_bytes));
    auto expect = req.header("Expect");
    rp.expects_continue_ = expect && iequals(*expect, "100-continue")
                           && (p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1));
    return 0;
  }

  static int on_body(http_parser* p, const char* at, std::size_t n) {
    auto& rp = self(p);
    if (rp.current_.body.size() + n > rp.limits_.max_body_bytes)
      return rp.fail(413, over("body", rp.limits_.max_body_bytes));
    rp.current_.body.append(at, n);
    return 0;
  }

  static int on_message_complete(http_parser* p) {
    auto& rp = self(p);
    bool keep_alive = http_should_keep_alive(p) != 0 && !p->upgrade;
    rp.pending_.requests.push_back({std::move(rp.current_), keep_alive});
    rp.current_ = request{};
    rp.in_message_ = false;
    rp.expects_continue_ = false;
    if (!keep_alive) {
      // Stop here: nothing after this request will be answered.
      rp.is_finished_ = true;
      http_parser_pause(p, 1);
    }
    return 0;
  }

  static constexpr http_parser_settings settings{
    on_message_begin, on_url, nullptr, on_header_field, on_header_value,
    on_headers_complete, on_body, on_message_complete, nullptr, nullptr,
  };
};

request_parser::request_parser(parse_limits limits) : limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
}

int request_parser::fail(int status, std::string reason) {
  if (!failure_)
    failure_ = parse_failure{status, std::move(reason)};
  return -1;
}

feed_result request_parser::feed(std::string_view bytes) {
  pending_ = feed_result{};
  if (failure_ || is_finished_ || bytes.empty())
    return std::move(pending_);
  parser_.data = this;
  std::size_t parsed = http_parser_execute(&parser_, &callbacks::settings, bytes.data(), bytes.size());
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (!is_finished_ && !failure_ && (err != HPE_OK || parsed != bytes.size())) {
    if (err == HPE_HEADER_OVERFLOW)
      fail(431, "request head over http-parser's limit");
    else if (err != HPE_OK)
      fail(400, http_errno_description(err));
    else
      fail(400, "unexpected bytes after the request");
  }
  if (!failure_ && in_message_ && expects_continue_ && !continue_sent_) {
    pending_.send_continue = true;
    continue_sent_ = true;
  }
  return std::move(pending_);
}

} // namespace telluride::http
