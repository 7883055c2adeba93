#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string_view>

namespace bench {

namespace {

class socket_fd {
public:
  socket_fd() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  ~socket_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const noexcept { return fd_; }

private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Content-Length of a header block, or -1.
long content_length(std::string_view head) {
  auto text = lower(head);
  auto at = text.find("\r\ncontent-length:");
  if (at == std::string::npos)
    return -1;
  return std::strtol(text.c_str() + at + 17, nullptr, 10);
}

} // namespace

causeway::expected<http_reply> http_request(std::uint16_t port, const http_call& call) {
  const std::string what = call.method + " " + call.path;
  socket_fd sock;
  if (sock.get() < 0)
    return causeway::error{what + ": socket: " + std::strerror(errno)};
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(call.timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((call.timeout.count() % 1000) * 1000);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto addr = loopback(port);
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return causeway::error{what + ": connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno)};

  std::ostringstream out;
  out << call.method << ' ' << call.path << " HTTP/1.1\r\nHost: 127.0.0.1:" << port
      << "\r\nConnection: close\r\nContent-Length: " << call.body.size() << "\r\n";
  for (const auto& [name, value] : call.headers)
    out << name << ": " << value << "\r\n";
  out << "\r\n" << call.body;
  const std::string request = out.str();
  for (std::size_t sent = 0; sent < request.size();) {
    auto n = ::send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return causeway::error{what + ": send: " + std::strerror(errno)};
    sent += static_cast<std::size_t>(n);
  }

  std::string reply;
  char buffer[16384];
  std::size_t head_end = std::string::npos;
  long length = -1;
  for (;;) {
    auto n = ::recv(sock.get(), buffer, sizeof buffer, 0);
    if (n < 0)
      return causeway::error{what + ": no reply: " + std::strerror(errno)};
    if (n == 0)
      break;
    reply.append(buffer, static_cast<std::size_t>(n));
    if (head_end == std::string::npos && (head_end = reply.find("\r\n\r\n")) != std::string::npos)
      length = content_length(std::string_view{reply}.substr(0, head_end));
    if (head_end != std::string::npos && length >= 0 &&
        reply.size() >= head_end + 4 + static_cast<std::size_t>(length))
      break;
  }
  if (head_end == std::string::npos || !reply.starts_with("HTTP/1."))
    return causeway::error{what + ": not an HTTP reply"};
  http_reply r;
  r.status = std::atoi(reply.c_str() + reply.find(' ') + 1);
  r.body = reply.substr(head_end + 4, length >= 0 ? static_cast<std::size_t>(length) : std::string::npos);
  return r;
}

std::uint16_t free_local_port() {
  socket_fd sock;
  auto addr = loopback(0);
  if (sock.get() < 0 || ::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return 0;
  socklen_t size = sizeof addr;
  if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &size) != 0)
    return 0;
  return ntohs(addr.sin_port);
}

double prometheus_value(const std::string& text, const std::string& metric) {
  std::size_t at = 0;
  while ((at = text.find(metric + ' ', at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n')
      return std::strtod(text.c_str() + at + metric.size() + 1, nullptr);
    at += metric.size();
  }
  return -1;
}

} // namespace bench
