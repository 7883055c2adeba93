#include "telluride/http/sse_frame.hpp"

namespace telluride::http {

std::string sse_stream_head(std::chrono::milliseconds retry) {
  std::string out =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: keep-alive\r\n"
    "X-Accel-Buffering: no\r\n"
    "\r\n";
  out.append("retry: ").append(std::to_string(retry.count())).append("\n\n");
  return out;
}

std::string sse_event(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  for (;;) {
    auto end = data.find_first_of("\r\n");
    out.append("data: ").append(data.substr(0, end)).append("\n");
    if (end == std::string_view::npos)
      break;
    bool is_crlf = data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n';
    data.remove_prefix(end + (is_crlf ? 2 : 1));
  }
  out.append("\n");
  return out;
}

} // namespace telluride::http
