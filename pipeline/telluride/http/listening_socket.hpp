// listening_socket.hpp — a bound, listening TCP socket handed from one http_server to the next.
//
// A server that stops with `stop_keeping_listener` leaves its socket listening and returns it;
// the next server started with it accepts on it. Clients that connect between the two wait in
// the socket's backlog instead of being refused, so the address answers throughout (a daemon's
// standby server giving way to its own, docs/http.md).
#pragma once

#include <unistd.h>

#include <utility>

namespace telluride::http {

/// Owns one socket descriptor (or none) and closes it unless released.
class listening_socket {
public:
  listening_socket() = default;
  explicit listening_socket(int fd) noexcept : fd_(fd) {}
  ~listening_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  listening_socket(listening_socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  listening_socket& operator=(listening_socket&& other) noexcept {
    if (this != &other) {
      listening_socket dropped{std::exchange(fd_, std::exchange(other.fd_, -1))};
    }
    return *this;
  }
  listening_socket(const listening_socket&) = delete;
  listening_socket& operator=(const listening_socket&) = delete;

  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  /// Gives the descriptor up (to a libuv handle that closes it from now on).
  int release() noexcept { return std::exchange(fd_, -1); }

private:
  int fd_ = -1;
};

} // namespace telluride::http
