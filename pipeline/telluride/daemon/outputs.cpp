#include "telluride/daemon/outputs.hpp"

#include <causeway/utf8.hpp>

namespace telluride {

namespace {

causeway::amqp::message_properties json_properties() {
  causeway::amqp::message_properties p;
  p.content_type = "application/json";
  p.persistent = true;
  return p;
}

} // namespace

outputs::outputs(std::shared_ptr<causeway::amqp::publisher> publisher, route_names routes)
  : publisher_(std::move(publisher)), routes_(std::move(routes)) {}

void outputs::publish(const std::string& exchange, const std::string& routing_key, std::string body) {
  publisher_->publish(exchange, routing_key, std::move(body), json_properties());
}

void outputs::aggregate(std::string json) {
  publish(routes_.exchange, routes_.aggregates_routing_key, std::move(json));
}

void outputs::aggregates(std::vector<std::string> jsons, causeway::amqp::confirm_callback sent) {
  publisher_->publish_each(routes_.exchange, routes_.aggregates_routing_key, json_properties(), std::move(jsons),
                           std::move(sent));
}

void outputs::alert(std::string json) {
  publish(routes_.exchange, routes_.alerts_routing_key, std::move(json));
}

void outputs::metric(std::string json) {
  publish(routes_.exchange, routes_.metrics_routing_key, std::move(json));
}

void outputs::throughput(std::string json) {
  publish(routes_.events_exchange, routes_.throughput_routing_key, std::move(json));
}

void outputs::event(const nlohmann::json& event) {
  // Events may quote input: never throw on invalid UTF-8 (it is replaced by U+FFFD).
  publish(routes_.events_exchange, routes_.events_routing_key,
          event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void outputs::dead_letter(const causeway::message& msg, std::string_view reason,
                          causeway::amqp::confirm_callback done) {
  causeway::amqp::outgoing_message out;
  out.exchange = routes_.exchange;
  out.routing_key = routes_.dead_letter_routing_key;
  out.body = msg.data;
  out.properties.persistent = true;
  out.properties.content_type = std::string{msg.metadata.get("content_type")};
  out.properties.message_id = std::string{msg.metadata.get("message_id")};
  out.properties.correlation_id = std::string{msg.metadata.get("correlation_id")};
  out.properties.headers.push_back({std::string{reason_header}, causeway::one_line_utf8(reason)});
  if (auto key = msg.metadata.get("routing_key"); !key.empty())
    out.properties.headers.push_back({"x-telluride-routing-key", std::string{key}});
  publisher_->publish(std::move(out), std::move(done));
}

bool outputs::wait_confirmed(std::chrono::milliseconds timeout) {
  return publisher_->wait_confirmed(timeout);
}

} // namespace telluride
