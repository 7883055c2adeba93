#include "telluride/daemon/config_actor.hpp"

#include "telluride/daemon/control_forwarder.hpp"
#include "telluride/domain/config_schema.hpp"

#include <causeway/acknowledger.hpp>
#include <causeway/utf8.hpp>

#include <spdlog/spdlog.h>

namespace telluride {

void acknowledge_one(causeway::message msg) {
  std::vector<causeway::message> ok;
  std::vector<causeway::message> failed;
  ok.push_back(std::move(msg));
  causeway::acknowledge(ok, failed);
}

config_actor::config_actor(caf::actor_config& cfg, config_actor_parts parts, std::unique_ptr<control_source> control)
  : caf::event_based_actor(cfg), parts_(std::move(parts)), control_(std::move(control)) {}

caf::behavior config_actor::make_behavior() {
  if (!control_->start(caf::actor_cast<caf::actor>(this)))
    control_drained_ = true;
  return {
    [this](causeway::deliver_atom, std::vector<causeway::message>& messages) { on_deliver(messages); },
    [this](causeway::drained_atom) {
      control_drained_ = true;
      finish_shutdown_if_done();
    },
    [this](apply_atom, std::string& body) {
      pending_.push_back(pending_change{std::move(body), std::nullopt, make_response_promise(), std::nullopt});
      process_next();
    },
    [this](shutdown_atom) {
      shutdown_.add(make_response_promise(), *control_);
      finish_shutdown_if_done();
    },
  };
}

void config_actor::on_deliver(std::vector<causeway::message>& messages) {
  for (auto& msg : messages) {
    // A delivery the connector already refused (e.g. a body over its size limit) arrives
    // failed: it is rejected with that reason like any invalid reconfiguration.
    std::optional<std::string> refused;
    if (msg.is_failed())
      refused = "reconfiguration refused: " + msg.failure_reason();
    auto body = refused ? std::string{} : msg.data;
    pending_.push_back(pending_change{std::move(body), std::move(msg), {}, std::move(refused)});
  }
  process_next();
}

void config_actor::process_next() {
  while (!busy_ && !pending_.empty()) {
    auto req = std::move(pending_.front());
    pending_.pop_front();
    if (settle_if_copy(req))
      continue;
    // Nothing a message holds may stop the handler: whatever escapes the checks (a bug, an
    // allocation failure) rejects this message like any invalid one, and the next goes on.
    std::string problem;
    try {
      auto next = req.refused ? expected<telluride::config>{error{*req.refused}} : check_change(req.body);
      if (next) {
        start_restart(std::move(req), std::move(*next));
        continue;
      }
      problem = next.err().message;
    } catch (const std::exception& e) {
      problem = std::string{"reconfiguration could not be applied: "} + e.what();
      ++parts_.counters->handler_errors;
    } catch (...) {
      problem = "reconfiguration could not be applied: unknown error";
      ++parts_.counters->handler_errors;
    }
    reject(std::move(req), problem);
  }
  finish_shutdown_if_done();
}

bool config_actor::settle_if_copy(pending_change& req) {
  if (!req.control)
    return false;
  const auto& msg = *req.control;
  auto id = msg.metadata.get("message_id");
  if (!ledger_.is_copy(id, msg.data, is_redelivered_control(msg)))
    return false;
  spdlog::info("control message {} delivered again after it was handled: acknowledged, not applied again",
               causeway::one_line_utf8(id, 255));
  acknowledge_one(std::move(*req.control));
  return true;
}

void config_actor::note_handled(const causeway::message& control) {
  ledger_.handled(control.metadata.get("message_id"), control.data);
}

expected<telluride::config> config_actor::check_change(const std::string& body) {
  auto change = parse_reconfiguration(body);
  if (!change)
    return change.err();
  auto next = apply_reconfiguration(parts_.config->current().first, *change);
  if (!next)
    return next.err();
  if (auto prepared = parts_.readings->prepare_for(*next); !prepared)
    return prepared.err();
  return next;
}

void config_actor::start_restart(pending_change req, telluride::config next) {
  busy_ = true;
  parts_.readings->set_consuming(false);
  auto options = readings_pipeline_options(next, *parts_.readings);
  request(parts_.pipeline, caf::infinite, causeway::restart_atom::value, std::move(options))
    .then(
      [this, req = std::move(req), next](causeway::restart_result& result) mutable {
        on_restarted(std::move(req), std::move(next), result);
      },
      [this](caf::error& e) {
        spdlog::error("readings pipeline supervisor is gone: {}", to_string(e));
        busy_ = false;
      });
}

void config_actor::on_restarted(pending_change req, telluride::config next, const causeway::restart_result& result) {
  busy_ = false;
  parts_.readings->set_consuming(true);
  if (!result.ok) {
    reject(std::move(req), result.error);
    return process_next();
  }
  ++parts_.counters->config_applied;
  auto version = parts_.config->version() + 1;
  parts_.config->set(next, version);
  nlohmann::json event{{"event", "config_applied"},
                       {"version", version},
                       {"config", to_json(next)},  // every key, secrets masked (as GET /api/config)
                       {"drain_ms", result.drained.duration.count()}};
  if (req.control)
    if (auto id = req.control->metadata.get("correlation_id"); !id.empty())
      event["correlation_id"] = causeway::one_line_utf8(id, 255);
  parts_.out->event(event);
  spdlog::info("configuration version {} applied (drain {} ms): {}", version,
               result.drained.duration.count(), reconfiguration_to_json(next).dump());
  if (req.control) {
    note_handled(*req.control);
    acknowledge_one(std::move(*req.control));
  }
  if (req.reply.pending())
    req.reply.deliver(config_outcome{true, event});
  process_next();
}

nlohmann::json reject_reconfiguration(outputs& out, control_counters& counters,
                                      std::optional<causeway::message> control, const std::string& why) {
  ++counters.config_rejected;
  // The reason may quote the message (a parse error's last token): one line of valid UTF-8.
  const std::string reason = causeway::one_line_utf8(why);
  nlohmann::json event{{"event", "config_rejected"}, {"reason", reason}};
  if (control)
    if (auto id = control->metadata.get("correlation_id"); !id.empty())
      event["correlation_id"] = causeway::one_line_utf8(id, 255);
  out.event(event);
  spdlog::warn("reconfiguration rejected: {}", reason);
  if (control) {
    // The dead-lettered copy must be with the broker before the original is acknowledged.
    auto msg = std::make_shared<causeway::message>(std::move(*control));
    out.dead_letter(*msg, reason, [msg](causeway::amqp::publish_outcome) { acknowledge_one(std::move(*msg)); });
  }
  return event;
}

void config_actor::reject(pending_change req, const std::string& why) {
  if (req.control)
    note_handled(*req.control);
  auto event = reject_reconfiguration(*parts_.out, *parts_.counters, std::move(req.control), why);
  if (req.reply.pending())
    req.reply.deliver(config_outcome{false, event});
}

void config_actor::finish_shutdown_if_done() {
  if (!shutdown_.any() || !control_drained_ || busy_ || !pending_.empty())
    return;
  shutdown_.answer(*control_);
  quit();
}

} // namespace telluride
