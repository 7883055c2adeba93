#include "telluride/http/connection_timeline.hpp"

#include "causeway/detail/overloaded.hpp"

#include <algorithm>

namespace telluride::http {

using causeway::detail::overloaded;

connection_timeline::connection_timeline(connection_timeouts timeouts, loop_time now, std::uint64_t serial)
  : timeouts_(timeouts), phase_(phase::reading{now, std::nullopt}), serial_(serial) {}

void connection_timeline::on_read(loop_time now, std::size_t completed, bool is_mid_request) {
  auto* p = std::get_if<phase::reading>(&phase_);
  if (!p)
    return;
  p->last_progress = now;
  if (!is_mid_request)
    p->request_started.reset();
  else if (completed > 0 || !p->request_started)
    p->request_started = now;  // a new request began in these bytes
}

void connection_timeline::on_written(loop_time now) {
  if (auto* r = std::get_if<phase::reading>(&phase_))
    r->last_progress = now;
  else if (auto* f = std::get_if<phase::finishing>(&phase_))
    f->last_progress = now;
  else if (auto* st = std::get_if<phase::streaming>(&phase_))
    st->last_progress = now;
}

void connection_timeline::start_handler(loop_time now) {
  if (is<phase::reading>())
    phase_ = phase::awaiting_handler{now};
}

void connection_timeline::end_handler(loop_time now, bool is_mid_request) {
  if (!is<phase::awaiting_handler>())
    return;
  phase_ = phase::reading{now, is_mid_request ? std::optional<loop_time>{now} : std::nullopt};
}

void connection_timeline::finish(loop_time now) {
  if (auto* r = std::get_if<phase::reading>(&phase_))
    phase_ = phase::finishing{std::max(r->last_progress, now)};
}

void connection_timeline::linger(loop_time now) {
  if (is<phase::finishing>())
    phase_ = phase::lingering{now};
}

void connection_timeline::stream(loop_time now) {
  if (is<phase::reading>())
    phase_ = phase::streaming{now};
}

std::optional<loop_time> connection_timeline::next_deadline() const {
  return std::visit(
    overloaded{
      [this](const phase::reading& p) -> std::optional<loop_time> {
        auto idle = p.last_progress + timeouts_.idle;
        if (!p.request_started)
          return idle;
        return std::min(idle, *p.request_started + timeouts_.request);
      },
      [this](const phase::finishing& p) -> std::optional<loop_time> { return p.last_progress + timeouts_.idle; },
      [this](const phase::streaming& p) -> std::optional<loop_time> { return p.last_progress + timeouts_.idle; },
      [this](const phase::lingering& p) -> std::optional<loop_time> { return p.since + timeouts_.linger; },
      [](const auto&) -> std::optional<loop_time> { return std::nullopt; },
    },
    phase_);
}

expiry connection_timeline::expired(loop_time now) const {
  return std::visit(
    overloaded{
      [&](const phase::reading& p) {
        if (p.request_started && now >= *p.request_started + timeouts_.request)
          return expiry::request;
        return now >= p.last_progress + timeouts_.idle ? expiry::idle : expiry::none;
      },
      [&](const phase::finishing& p) {
        return now >= p.last_progress + timeouts_.idle ? expiry::idle : expiry::none;
      },
      [&](const phase::streaming& p) {
        return now >= p.last_progress + timeouts_.idle ? expiry::idle : expiry::none;
      },
      [&](const phase::lingering& p) { return now >= p.since + timeouts_.linger ? expiry::linger : expiry::none; },
      [](const auto&) { return expiry::none; },
    },
    phase_);
}

std::optional<eviction_rank> connection_timeline::rank() const {
  return std::visit(
    overloaded{
      [this](const phase::lingering& p) -> std::optional<eviction_rank> { return eviction_rank{0, p.since, serial_}; },
      [this](const phase::finishing& p) -> std::optional<eviction_rank> {
        return eviction_rank{1, p.last_progress, serial_};
      },
      [this](const phase::reading& p) -> std::optional<eviction_rank> {
        // Waiting since the request began, or since the last progress when none is arriving.
        return eviction_rank{1, p.request_started.value_or(p.last_progress), serial_};
      },
      [this](const phase::awaiting_handler& p) -> std::optional<eviction_rank> {
        return eviction_rank{2, p.since, serial_};
      },
      [](const auto&) -> std::optional<eviction_rank> { return std::nullopt; },  // closing, streaming
    },
    phase_);
}

} // namespace telluride::http
