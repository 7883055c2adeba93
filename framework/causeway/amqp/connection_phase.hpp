// connection_phase.hpp — where an AMQP connection is in its life, and what moves it on.
//
// Pure: no sockets, no libuv, no rabbitmq-c state. The connection thread tells its
// `connection_lifecycle` what happened and asks it what it may do; the rules below live here
// and nowhere else (connection_phase_test.cpp checks them as a table).
//
//   phase                 event           next phase
//   ────────────────────  ──────────────  ─────────────────────────────────────────────
//   connecting            connected       connected
//                         closed          closed (the first connect failed)
//                         shutdown        closed
//   connected             failed(why)     failing{why, reconnect}
//                         shutdown        closing
//   failing{why, then}    lost            then == reconnect ? waiting_to_reconnect : closed
//                         shutdown        failing{why, stop}
//   waiting_to_reconnect  connected       connected
//                         shutdown        closed
//   closing               failed(why)     failing{why, stop}
//                         closed          closed
//   any                   closed          closed
//
// Any other event leaves the phase as it is. `failing` still holds the socket, but nothing may
// use it: the failure is applied once the current libuv callback returns
// (connection::impl::enter), which tears the connection down and reports `lost`. A second
// failure reported while failing is dropped (the first one is the cause); so is one reported
// while no socket is open: there is nothing left to break.
#pragma once

#include "causeway/amqp/error.hpp"

#include <cstdint>
#include <variant>

namespace causeway::amqp::detail {

/// What follows the loss of a failing connection.
enum class after_loss : std::uint8_t {
  reconnect,  ///< retry after backoff
  stop,       ///< the connection was shutting down: nothing follows
};

/// Before the first connect succeeded.
struct connecting {};
/// Logged in: channels open and work.
struct connected {};
/// Logged in, but a connection-level failure was reported; torn down when the callback returns.
struct failing {
  failure why;
  after_loss then;
};
/// Lost; a timer tries again after backoff.
struct waiting_to_reconnect {};
/// Shutting down: the channels close one by one, then the connection. Still usable meanwhile.
struct closing {};
/// Over: no socket, and none to come.
struct closed {};

using connection_phase =
  std::variant<connecting, connected, failing, waiting_to_reconnect, closing, closed>;

/// The phase's name, for logs and tests ("waiting_to_reconnect").
const char* name(const connection_phase& phase) noexcept;

class connection_lifecycle {
public:
  const connection_phase& phase() const noexcept { return phase_; }

  // --- events ---

  /// A connect (the first or a reconnect) succeeded.
  void on_connected();
  /// A connection-level failure was reported. True if it is the one that will be applied.
  bool on_failure(failure why);
  /// The failing connection was torn down. True: reconnect after backoff; false: stop.
  bool on_lost();
  /// shutdown() began: from now on nothing reconnects.
  void on_shutdown();
  /// The first connect failed, or shutdown() closed the connection: nothing follows.
  void on_closed();

  // --- questions ---

  /// rabbitmq-c holds a logged-in socket (connected, failing or closing).
  bool has_socket() const noexcept;
  /// The socket may be used: connected or closing, with no failure waiting.
  bool is_usable() const noexcept;
  /// shutdown() began (or the first connect failed): nothing reconnects, commands are dropped.
  bool is_shutting_down() const noexcept;
  /// The failure waiting to be applied, if any.
  const failure* pending_failure() const noexcept;

private:
  connection_phase phase_{connecting{}};
};

} // namespace causeway::amqp::detail
