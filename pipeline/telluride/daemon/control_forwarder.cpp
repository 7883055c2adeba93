#include "telluride/daemon/control_forwarder.hpp"

#include "telluride/daemon/config_actor.hpp"
#include "telluride/domain/bounded_json.hpp"
#include "telluride/domain/config_schema.hpp"

#include <causeway/acknowledger.hpp>
#include <causeway/atoms.hpp>
#include <causeway/utf8.hpp>

#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <charconv>

namespace telluride {

namespace {

using forwarded_atom = caf::atom_constant<caf::atom("tl_fwded")>;

/// Settles a control message once the broker answered for its copy: acknowledged when the
/// copy is with the broker, else given back (requeued once, then dead-lettered by the queue).
void settle(causeway::message msg, causeway::amqp::publish_outcome outcome) {
  std::vector<causeway::message> ok;
  std::vector<causeway::message> failed;
  if (outcome == causeway::amqp::publish_outcome::confirmed) {
    ok.push_back(std::move(msg));
  } else {
    msg.fail(outcome == causeway::amqp::publish_outcome::nacked ? "the broker refused its forwarded copy"
                                                                 : "its forwarded copy was not confirmed");
    failed.push_back(std::move(msg));
  }
  causeway::acknowledge(ok, failed);
}

} // namespace

causeway::amqp::outgoing_message forwarded_copy(const causeway::message& original, const std::string& exchange) {
  causeway::amqp::outgoing_message out;
  out.exchange = exchange;
  out.body = original.data;
  auto& p = out.properties;
  p.content_type = std::string(original.metadata.get("content_type"));
  p.message_id = std::string(original.metadata.get("message_id"));
  p.correlation_id = std::string(original.metadata.get("correlation_id"));
  const auto ts = original.metadata.get("timestamp");
  std::uint64_t seconds = 0;
  if (!ts.empty() && std::from_chars(ts.data(), ts.data() + ts.size(), seconds).ec == std::errc{})
    p.timestamp = seconds;
  if (is_redelivered_control(original))
    p.headers.push_back({std::string(forwarded_redelivered_header), true});
  return out;
}

bool is_redelivered_control(const causeway::message& msg) {
  if (msg.metadata.get("redelivered") == "true")
    return true;
  const auto headers = msg.metadata.get("headers");
  if (headers.find(forwarded_redelivered_header) == std::string_view::npos)
    return false;  // the common case, without parsing
  // The headers come from the publisher: parsed within limits (no recursion on their depth).
  auto parsed = parse_bounded_json(headers, json_limits{1024 * 1024, 64});
  return parsed && parsed->is_object() && parsed->contains(std::string(forwarded_redelivered_header));
}

control_forwarder::control_forwarder(caf::actor_config& cfg, control_forwarder_parts parts,
                                     std::unique_ptr<control_source> control)
  : caf::event_based_actor(cfg), parts_(std::move(parts)), control_(std::move(control)) {}

caf::behavior control_forwarder::make_behavior() {
  if (!control_->start(caf::actor_cast<caf::actor>(this)))
    drained_ = true;
  return {
    [this](causeway::deliver_atom, std::vector<causeway::message>& messages) { forward(messages); },
    [this](forwarded_atom) {
      --outstanding_;
      finish_shutdown_if_done();
    },
    [this](causeway::drained_atom) {
      drained_ = true;
      finish_shutdown_if_done();
    },
    [this](shutdown_atom) {
      shutdown_.add(make_response_promise(), *control_);
      finish_shutdown_if_done();
    },
  };
}

void control_forwarder::forward(std::vector<causeway::message>& messages) {
  auto self = caf::actor_cast<caf::actor>(this);
  for (auto& msg : messages) {
    // What no daemon would apply is refused here, once, as one daemon refuses it (one event,
    // one dead letter), instead of by each daemon: too big to read (max_body_size) or broken in
    // transit, or not a valid reconfiguration on its own.
    if (msg.is_failed()) {
      const std::string why = "reconfiguration refused: " + msg.failure_reason();
      reject_reconfiguration(*parts_.out, *parts_.counters, std::move(msg), why);
      continue;
    }
    if (auto change = parse_reconfiguration(msg.data); !change) {
      reject_reconfiguration(*parts_.out, *parts_.counters, std::move(msg), change.err().message);
      continue;
    }
    auto copy = forwarded_copy(msg, parts_.exchange);
    ++outstanding_;
    auto original = std::make_shared<causeway::message>(std::move(msg));
    parts_.publisher->publish(std::move(copy), [original, self](causeway::amqp::publish_outcome outcome) {
      settle(std::move(*original), outcome);
      caf::anon_send(self, forwarded_atom::value);
    });
  }
}

void control_forwarder::finish_shutdown_if_done() {
  if (!shutdown_.any() || !drained_ || outstanding_ != 0)
    return;
  shutdown_.answer(*control_);
  quit();
}

} // namespace telluride
