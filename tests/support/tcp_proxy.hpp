// tcp_proxy.hpp — a small TCP proxy for fault tests: it listens on 127.0.0.1 (a free port),
// connects every accepted client to 127.0.0.1:target and forwards bytes both ways. A test can
// freeze it (nothing is read or written either way, nothing is closed: to both ends the
// connection looks stalled, as behind a dead link), resume it, and cut every connection (reset).
//
// One thread runs a poll loop over the listening socket, a wake pipe and the connections;
// public member functions may be called from any other thread and return once the loop has
// applied them. Bounded: at most `max_connections` connections (more are closed at once) and
// `buffer_size` bytes in flight per direction. While frozen, new clients are accepted and held
// (not forwarded) like the rest.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fault_test {

class tcp_proxy {
public:
  static constexpr std::size_t max_connections = 64;
  static constexpr std::size_t buffer_size = 64 * 1024;

  /// Listens on 127.0.0.1 at a free port and forwards to 127.0.0.1:`target_port`.
  explicit tcp_proxy(std::uint16_t target_port) : target_port_(target_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(0);
    int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0)
      throw std::runtime_error("tcp_proxy: cannot listen on 127.0.0.1");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0)
      throw std::runtime_error("tcp_proxy: cannot create its wake pipe");
    loop_ = std::thread{[this] { run(); }};
  }

  ~tcp_proxy() {
    apply([](tcp_proxy& p) { p.stopping_ = true; });
    loop_.join();
    for (auto& c : connections_)
      close_pair(c, false);
    ::close(listener_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  std::uint16_t port() const { return port_; }
  /// amqp://guest:guest@127.0.0.1:<port>/%2f — the proxy as the daemon's broker.
  std::string amqp_url() const { return "amqp://guest:guest@127.0.0.1:" + std::to_string(port_) + "/%2f"; }

  /// Stops forwarding both ways without closing anything.
  void freeze() { apply([](tcp_proxy& p) { p.frozen_ = true; }); }
  /// Forwards again, starting with what was held.
  void resume() { apply([](tcp_proxy& p) { p.frozen_ = false; }); }
  /// Resets every open connection (both ends see ECONNRESET); new ones are accepted as usual.
  void cut() {
    apply([](tcp_proxy& p) {
      for (auto& c : p.connections_)
        p.close_pair(c, true);
      p.connections_.clear();
    });
  }
  /// Connections open now (each is a client and its upstream).
  std::size_t open_connections() {
    std::size_t n = 0;
    apply([&n](tcp_proxy& p) { n = p.connections_.size(); });
    return n;
  }
  /// Clients accepted since the proxy started.
  std::size_t accepted() {
    std::size_t n = 0;
    apply([&n](tcp_proxy& p) { n = p.accepted_; });
    return n;
  }

private:
  /// One direction of a connection: bytes read from one socket, not yet written to the other.
  struct pipe_buffer {
    std::array<char, buffer_size> bytes{};
    std::size_t begin = 0, end = 0;
    bool empty() const { return begin == end; }
    bool full() const { return end == bytes.size(); }
  };
  struct connection {
    int client = -1, upstream = -1;
    pipe_buffer to_upstream, to_client;
  };

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }

  /// Runs `change` on the loop thread and waits until it ran.
  template <class F>
  void apply(F change) {
    std::unique_lock lock{mutex_};
    auto ticket = ++requested_;
    commands_.emplace_back([change](tcp_proxy& p) mutable { change(p); });
    char byte = 1;
    [[maybe_unused]] auto n = ::write(wake_[1], &byte, 1);
    applied_cv_.wait(lock, [&] { return applied_ >= ticket; });
  }

  void run_commands() {
    char drain[64];
    while (::read(wake_[0], drain, sizeof drain) > 0) {
    }
    std::unique_lock lock{mutex_};
    for (auto& c : commands_)
      c(*this);
    applied_ += commands_.size();
    commands_.clear();
    applied_cv_.notify_all();
  }

  void run() {
    while (!stopping_) {
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}};
      if (!frozen_)
        for (auto& c : connections_) {
          fds.push_back({c.client, events(c.to_upstream, c.to_client), 0});
          fds.push_back({c.upstream, events(c.to_client, c.to_upstream), 0});
        }
      if (::poll(fds.data(), fds.size(), 1000) < 0)
        continue;
      if (fds[0].revents != 0)
        run_commands();
      if (stopping_)
        break;
      if (fds[1].revents != 0)
        accept_one();
      if (frozen_ || fds.size() == 2)
        continue;
      std::size_t i = 2;
      for (auto it = connections_.begin(); it != connections_.end() && i + 1 < fds.size(); i += 2) {
        bool alive = forward(it->client, it->upstream, it->to_upstream, fds[i].revents, fds[i + 1].revents) &&
                     forward(it->upstream, it->client, it->to_client, fds[i + 1].revents, fds[i].revents);
        if (alive) {
          ++it;
        } else {
          close_pair(*it, false);
          it = connections_.erase(it);
        }
      }
    }
  }

  /// Poll events of a socket that reads into `in` and writes from `out`.
  static short events(const pipe_buffer& in, const pipe_buffer& out) {
    short e = 0;
    if (!in.full())
      e |= POLLIN;
    if (!out.empty())
      e |= POLLOUT;
    return e;
  }

  /// Moves bytes from `from` into `buf` and from `buf` to `to`; false once either end is gone.
  static bool forward(int from, int to, pipe_buffer& buf, short from_events, short to_events) {
    if (from_events & (POLLERR | POLLNVAL))
      return false;
    if ((from_events & (POLLIN | POLLHUP)) && !buf.full()) {
      auto n = ::recv(from, buf.bytes.data() + buf.end, buf.bytes.size() - buf.end, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        return false;
      if (n > 0)
        buf.end += static_cast<std::size_t>(n);
    }
    if (to_events & (POLLERR | POLLNVAL))
      return false;
    while (!buf.empty()) {  // non-blocking: stops at a full socket
      auto n = ::send(to, buf.bytes.data() + buf.begin, buf.end - buf.begin, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n <= 0)
        return false;
      buf.begin += static_cast<std::size_t>(n);
    }
    if (buf.empty())
      buf.begin = buf.end = 0;
    return true;
  }

  void accept_one() {
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0)
      return;
    ++accepted_;
    int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in target = loopback(target_port_);
    if (connections_.size() >= max_connections || upstream < 0 ||
        ::connect(upstream, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
      if (upstream >= 0)
        ::close(upstream);
      ::close(client);
      return;
    }
    ::fcntl(upstream, F_SETFL, ::fcntl(upstream, F_GETFL) | O_NONBLOCK);
    connections_.emplace_back();
    connections_.back().client = client;
    connections_.back().upstream = upstream;
  }

  static void close_pair(connection& c, bool reset) {
    for (int fd : {c.client, c.upstream}) {
      if (fd < 0)
        continue;
      if (reset) {
        linger abort{1, 0};  // close() sends RST
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      }
      ::close(fd);
    }
    c.client = c.upstream = -1;
  }

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::thread loop_;

  std::mutex mutex_;  // guards commands_, requested_, applied_
  std::condition_variable applied_cv_;
  std::vector<std::function<void(tcp_proxy&)>> commands_;
  std::uint64_t requested_ = 0, applied_ = 0;

  // Loop thread only (commands run there too).
  std::list<connection> connections_;
  std::size_t accepted_ = 0;
  bool frozen_ = false;
  bool stopping_ = false;
};

} // namespace fault_test
