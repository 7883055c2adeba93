// test_client.hpp — a blocking HTTP/1.1 client on plain POSIX sockets, for the server tests.
//
// Every receive is bounded (5 s by default), so a server bug fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace telluride::http::testing {

/// One response as read off the wire.
struct reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name` (exact lower-case match on a lower-cased copy).
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (lower(key) == lower(std::string{name}))
        return value;
    return std::nullopt;
  }

  static std::string lower(std::string s) {
    for (auto& c : s)
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    return s;
  }
};

class test_client {
public:
  /// `receive_buffer` > 0 sets SO_RCVBUF before connecting (a client that holds little).
  explicit test_client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds{5},
                       int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    is_connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~test_client() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  test_client(const test_client&) = delete;
  test_client& operator=(const test_client&) = delete;

  bool is_connected() const { return is_connected_; }

  /// Sends all of `bytes`; false when the socket refused them.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads one response (status line, headers, and a Content-Length body unless it answers a
  /// HEAD request); nullopt on timeout, close or garbage.
  std::optional<reply> read_reply(bool answers_head = false) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return std::nullopt;
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    reply r;
    auto line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12)
      return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      auto line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      auto colon = line.find(':');
      if (colon == std::string::npos)
        return std::nullopt;
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    std::size_t length = 0;
    if (auto cl = r.header("Content-Length"); cl && !answers_head)
      length = std::stoul(*cl);
    while (buffer_.size() < length)
      if (!fill())
        return std::nullopt;
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  /// Reads until `marker` has arrived and returns everything before and including it; nullopt
  /// on timeout or close (for streams, whose body has no length).
  std::optional<std::string> read_through(std::string_view marker) {
    std::size_t at;
    while ((at = buffer_.find(marker)) == std::string::npos)
      if (!fill())
        return std::nullopt;
    auto out = buffer_.substr(0, at + marker.size());
    buffer_.erase(0, at + marker.size());
    return out;
  }

  /// Sends `bytes` and reads one response.
  std::optional<reply> exchange(std::string_view bytes) {
    if (!send(bytes))
      return std::nullopt;
    return read_reply();
  }

  /// True when the server closes the connection (EOF or reset) with no further bytes, within
  /// the receive timeout.
  bool sees_close() {
    if (!buffer_.empty())
      return false;
    char c;
    auto n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
  }

  /// True when a byte (or EOF) can be read within `limit`; consumes nothing.
  bool wait_readable(std::chrono::milliseconds limit) {
    if (!buffer_.empty())
      return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) > 0;
  }

  /// Sends a FIN (no more requests) but keeps reading.
  bool shutdown_sending() { return ::shutdown(fd_, SHUT_WR) == 0; }

  /// Closes the socket with a TCP reset instead of a FIN.
  void reset() {
    linger lg{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd_);
    fd_ = -1;
  }

private:
  bool fill() {
    char chunk[4096];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0)
      return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool is_connected_ = false;
  std::string buffer_;
};

/// Polls `condition` every 5 ms until it holds or `limit` passes; returns its last value.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds{5}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return true;
}

} // namespace telluride::http::testing
