#include "telluride/http/response.hpp"

#include <utility>

namespace telluride::http {

response response::text(int status, std::string body) {
  return response{status, "text/plain; charset=utf-8", std::move(body), {}, nullptr};
}

response response::json(int status, std::string body) {
  return response{status, "application/json", std::move(body), {}, nullptr};
}

response response::event_stream(std::shared_ptr<event_feed> feed) {
  return response{200, "text/event-stream; charset=utf-8", {}, {}, std::move(feed)};
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

namespace {

bool is_safe_text(std::string_view s) noexcept {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0')
      return false;
  return true;
}

// Headers the server owns: letting a handler set them could desynchronise the framing.
bool is_reserved(std::string_view name) noexcept {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")
         || iequals(name, "Connection") || iequals(name, "Content-Type");
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

} // namespace

std::string serialize(const response& r, framing how) {
  int status = (r.status >= 100 && r.status <= 999) ? r.status : 500;
  bool may_have_body = status >= 200 && status != 204 && status != 304;
  std::string out;
  out.reserve(128 + r.body.size());
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(reason_phrase(status)).append("\r\n");
  if (may_have_body && !r.content_type.empty() && is_safe_text(r.content_type))
    append_header(out, "Content-Type", r.content_type);
  if (may_have_body)
    append_header(out, "Content-Length", std::to_string(r.body.size()));
  if (status >= 200)
    append_header(out, "Connection", how.keep_alive ? "keep-alive" : "close");
  for (const auto& field : r.headers)
    if (!field.name.empty() && is_safe_text(field.name) && is_safe_text(field.value)
        && field.name.find(':') == std::string::npos && !is_reserved(field.name))
      append_header(out, field.name, field.value);
  out.append("\r\n");
  if (may_have_body && how.include_body)
    out.append(r.body);
  return out;
}

} // namespace telluride::http
