// connection_timeline.hpp — where one HTTP connection is in its life, when it must be closed,
// and how expendable it is when the server is full.
//
// Pure: times are passed in (the loop's millisecond clock, uv_now), so the deadline and eviction
// rules are tested as tables without sockets. The connection (connection.hpp) reports each
// event here and arms its one timer for `next_deadline()`.
//
// Deadlines (docs/http.md, Limits), by phase:
//   reading           the client owes us bytes: idle deadline `last_progress + idle` (bytes read
//                     or a response written count as progress), and while part of a request has
//                     arrived, the request deadline `request_started + request` as well.
//   awaiting_handler  the server is the slow one (a handler runs on a worker): no deadline.
//   finishing         the last response is queued: idle deadline only.
//   lingering         our side is shut down: `since + linger`.
//   streaming         a live stream (response::event_stream): idle deadline `last_progress + idle`,
//                     where progress is a frame written to the client; a viewer that takes
//                     nothing for that long is closed. Streams are never evicted (their own cap).
//   closing           none.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <variant>

namespace telluride::http {

/// Milliseconds of the loop's clock (uv_now), from an arbitrary origin.
using loop_time = std::chrono::milliseconds;

namespace phase {
/// Reading requests. `request_started` is set while part of a request has arrived.
struct reading {
  loop_time last_progress;
  std::optional<loop_time> request_started;
};
/// The handler of the oldest unanswered request runs on a worker; reading is paused.
struct awaiting_handler {
  loop_time since;
};
/// The last response is queued; once it is written our side shuts down.
struct finishing {
  loop_time last_progress;
};
/// Our side is shut down; the client's input is dropped until EOF or the linger deadline.
struct lingering {
  loop_time since;
};
/// The connection carries a live stream until it closes; the client's input is dropped.
struct streaming {
  loop_time last_progress;
};
/// The handles are closing.
struct closing {};
} // namespace phase

using connection_phase =
  std::variant<phase::reading, phase::awaiting_handler, phase::finishing, phase::lingering, phase::streaming,
               phase::closing>;

struct connection_timeouts {
  std::chrono::milliseconds request{10'000};
  std::chrono::milliseconds idle{10'000};
  std::chrono::milliseconds linger{2'000};
};

/// Which deadline passed.
enum class expiry {
  none,
  idle,             ///< nothing sent or read for `idle`: close
  request,          ///< a request not complete within `request` of its first byte: 408, close
  linger,           ///< done lingering: close
};

/// Lower ranks are closed first when a new connection arrives at the cap: lingering connections
/// (already answered), then the ones waiting on their client (idle, a request still arriving, or
/// a last response not yet read) by how long they have waited, then the ones whose handler
/// runs. Ties go to the older connection (lower serial).
struct eviction_rank {
  int tier = 0;
  loop_time since{0};
  std::uint64_t serial = 0;
  auto operator<=>(const eviction_rank&) const = default;
};

class connection_timeline {
public:
  /// A connection accepted at `now`, reading; `serial` orders connections by acceptance.
  connection_timeline(connection_timeouts timeouts, loop_time now, std::uint64_t serial);

  const connection_phase& phase() const noexcept { return phase_; }
  template <class Phase>
  bool is() const noexcept {
    return std::holds_alternative<Phase>(phase_);
  }

  // Events. Each applies only in the phases it names and is ignored in the others.

  /// reading: bytes arrived; `completed` requests ended in them and `is_mid_request` says
  /// whether part of another one is left. A request's clock starts with its first byte.
  void on_read(loop_time now, std::size_t completed, bool is_mid_request);
  /// reading, finishing, streaming: a response (or a frame) was written.
  void on_written(loop_time now);
  /// reading → awaiting_handler.
  void start_handler(loop_time now);
  /// awaiting_handler → reading. A partial request that waited behind the handler gets a
  /// fresh request deadline: the wait was the server's.
  void end_handler(loop_time now, bool is_mid_request);
  /// reading → finishing.
  void finish(loop_time now);
  /// finishing → lingering.
  void linger(loop_time now);
  /// reading → streaming.
  void stream(loop_time now);
  /// any → closing.
  void close() noexcept { phase_ = phase::closing{}; }

  // Queries.

  /// When the earliest deadline of the current phase falls; nullopt when none runs.
  std::optional<loop_time> next_deadline() const;
  /// Which deadline has passed at `now` (the request deadline wins a tie with idle).
  expiry expired(loop_time now) const;
  /// How expendable the connection is; nullopt once closing or streaming (it no longer counts
  /// against the connection cap).
  std::optional<eviction_rank> rank() const;

private:
  connection_timeouts timeouts_;
  connection_phase phase_;
  std::uint64_t serial_;
};

} // namespace telluride::http
