// config_event_match.hpp — which pipeline event answers a `config set`.
//
// The daemon announces the outcome of each control message on the pipeline-events route:
// `{"event":"config_applied","version":V,"config":{...},...}` or
// `{"event":"config_rejected","reason":"..."}`. When it copies the control message's AMQP
// correlation_id into the event (`"correlation_id"`), that decides: only the event with our id
// answers us. Events without one are matched by content: a config_applied whose `config`
// holds every key=value we sent, or the first config_rejected seen after we published (the
// listening queue is bound before publishing, so earlier events never reach us; a rejection of
// someone else's concurrent change could be taken for ours — the correlation id avoids that).
// Pure.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace telluride::tools {

enum class config_outcome { unrelated, applied, rejected };

/// What `event` says about the change `change` sent with `correlation_id`.
config_outcome match_config_event(const nlohmann::json& event, std::string_view correlation_id,
                                  const nlohmann::json& change);

} // namespace telluride::tools
