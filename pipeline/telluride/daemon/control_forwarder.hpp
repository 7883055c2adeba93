// control_forwarder.hpp — with shards > 1, every daemon applies every reconfiguration, in the
// order it was published (docs/sharding.md, Reconfiguring daemons that share the shards).
//
// The control queue is one queue, and the broker gives each of its messages to one consumer.
// So with several daemons one of them at a time (the one whose forwarding channel holds the
// lock queue `<control_queue>.lock`) takes the control queue and forwards each message, in
// order, to the fanout exchange `<control_queue>.nodes`; it acknowledges the message once the
// broker confirmed the copy, and gives it back (requeued) if the broker refused it. A message
// no daemon would apply (not a valid reconfiguration on its own, or too big to read) it
// refuses itself, as one daemon does: one config_rejected event, one dead letter. Every
// daemon, the forwarder's own included, has its queue `<control_queue>.<node>` bound to that
// exchange, and its config actor applies what arrives there (control_source), one message at a
// time in publication order.
//
// A forwarder that stops or dies leaves what it had not acknowledged to the next holder of the
// lock, which forwards it again. Such a copy carries the header `telluride-redelivered`, so a
// daemon that already applied it acknowledges it without applying it again (control_ledger;
// this needs a message_id, which `telluride config set` always sets).
//
// (shutdown_atom) stops taking, waits for the broker's answers to what was forwarded, closes
// the channel (anything unacknowledged goes back to the queue) and answers `true`.
#pragma once

#include "telluride/daemon/control_counters.hpp"
#include "telluride/daemon/control_source.hpp"
#include "telluride/daemon/outputs.hpp"

#include <causeway/amqp/publisher.hpp>
#include <causeway/message.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace telluride {

/// The header a forwarded copy carries when the control queue delivered its original again.
inline constexpr std::string_view forwarded_redelivered_header = "telluride-redelivered";

/// The copy of control message `original` forwarded to `exchange`: the same body, message_id,
/// correlation_id, content type and timestamp, plus forwarded_redelivered_header when the
/// broker had delivered the original before.
causeway::amqp::outgoing_message forwarded_copy(const causeway::message& original, const std::string& exchange);

/// Whether a control message is a copy the broker delivered again: flagged redelivered by the
/// broker, or forwarded from such a delivery.
bool is_redelivered_control(const causeway::message& msg);

/// What the forwarder uses; every pointer is set.
struct control_forwarder_parts {
  std::shared_ptr<causeway::amqp::publisher> publisher;  ///< publishes the copies
  std::string exchange;                                  ///< `<control_queue>.nodes`
  std::shared_ptr<outputs> out;                          ///< config_rejected events, dead letters
  std::shared_ptr<control_counters> counters;
};

class control_forwarder : public caf::event_based_actor {
public:
  control_forwarder(caf::actor_config& cfg, control_forwarder_parts parts, std::unique_ptr<control_source> control);

  caf::behavior make_behavior() override;

private:
  void forward(std::vector<causeway::message>& messages);
  void finish_shutdown_if_done();

  control_forwarder_parts parts_;
  std::unique_ptr<control_source> control_;
  std::uint64_t outstanding_ = 0;  // forwarded, the broker's answer not yet here
  bool drained_ = false;
  shutdown_requests shutdown_;
};

} // namespace telluride
