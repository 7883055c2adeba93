// config_actor.hpp — applies reconfigurations, from the control queue and from HTTP.
//
// It is the sink of the control queue's producer, so control messages arrive as deliveries,
// in order. Each is validated whole before anything changes (docs/wire-format.md, Reconfig.):
//   valid   → drain the readings pipeline, restart it with the merged config, bump the
//             version, publish {"event":"config_applied","version","config","drain_ms"},
//             then acknowledge the control message;
//   invalid → publish {"event":"config_rejected","reason"}, dead-letter the message with its
//             reason, then acknowledge it; nothing changes.
// Messages that arrive during a drain wait and are applied in order afterwards. A copy the
// broker delivers again after the message was handled (its acknowledgement was lost with the
// channel: a drain past consumer_timeout, a broker failure) is acknowledged and not applied
// again (control_ledger). POST /api/config enters through (apply_atom, body) and gets the
// event as its reply.
//
// It sees only what it uses (config_actor_parts): the config it replaces, the readings intake
// it prepares and pauses, the readings supervisor it restarts, the outputs it publishes events
// and dead letters to, and its counters. Its control_source is its own (one channel per
// instance: a restarted config actor takes again what its predecessor had not acknowledged).
#pragma once

#include "telluride/daemon/config_store.hpp"
#include "telluride/daemon/control_counters.hpp"
#include "telluride/daemon/control_source.hpp"
#include "telluride/daemon/outputs.hpp"
#include "telluride/daemon/readings_intake.hpp"
#include "telluride/domain/control_ledger.hpp"

#include <causeway/atoms.hpp>
#include <causeway/message.hpp>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace telluride {

using apply_atom = caf::atom_constant<caf::atom("tl_apply")>;
using shutdown_atom = caf::atom_constant<caf::atom("tl_shutdn")>;

/// The reply to (apply_atom, body): the event that was published.
struct config_outcome {
  bool applied = false;
  nlohmann::json event;
};

/// What the config actor uses; every pointer is set.
struct config_actor_parts {
  std::shared_ptr<config_store> config;      ///< the only writer
  std::shared_ptr<readings_intake> readings; ///< prepared for the next config; paused while restarting
  caf::actor pipeline;                       ///< the readings pipeline's supervisor
  std::shared_ptr<outputs> out;              ///< pipeline events, dead-lettered control messages
  std::shared_ptr<control_counters> counters;
};

class config_actor : public caf::event_based_actor {
public:
  config_actor(caf::actor_config& cfg, config_actor_parts parts, std::unique_ptr<control_source> control);

  caf::behavior make_behavior() override;

private:
  struct pending_change {
    std::string body;
    std::optional<causeway::message> control;  ///< from the control queue: ack when done
    caf::response_promise reply;               ///< from HTTP
    std::optional<std::string> refused;        ///< refused before parsing, with this reason
  };

  void on_deliver(std::vector<causeway::message>& messages);
  /// Whether `req` is a copy of a control message already handled; settles it if so.
  bool settle_if_copy(pending_change& req);
  /// Records a handled control message in ledger_.
  void note_handled(const causeway::message& control);
  /// Takes waiting changes in order until one restarts the pipeline (or none are left).
  void process_next();
  /// The merged config `body` asks for, or why it is refused (nothing changed then).
  expected<telluride::config> check_change(const std::string& body);
  void start_restart(pending_change req, telluride::config next);
  void reject(pending_change req, const std::string& why);
  void on_restarted(pending_change req, telluride::config next, const causeway::restart_result& result);
  void finish_shutdown_if_done();

  config_actor_parts parts_;
  std::unique_ptr<control_source> control_;
  std::deque<pending_change> pending_;
  control_ledger ledger_;
  bool busy_ = false;
  bool control_drained_ = false;
  shutdown_requests shutdown_;
};

/// Acknowledges one message (successfully) through its acknowledger.
void acknowledge_one(causeway::message msg);

/// Refuses a reconfiguration with `why`: counts it, publishes {"event":"config_rejected",
/// "reason"} (with the control message's correlation_id, if it has one) and logs it; a control
/// message is dead-lettered with the reason and acknowledged once the dead letter is with the
/// broker. Returns the event.
nlohmann::json reject_reconfiguration(outputs& out, control_counters& counters,
                                      std::optional<causeway::message> control, const std::string& why);

} // namespace telluride

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(telluride::config_outcome)
