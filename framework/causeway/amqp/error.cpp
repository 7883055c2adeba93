#include "causeway/amqp/describe.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/transport.hpp"

#include <amqp_framing.h>


namespace causeway::amqp {

namespace {

// RabbitMQ's reply texts already start with the code's name ("PRECONDITION_FAILED - ...");
// other brokers may not, so add it when missing.
std::string server_reason(std::uint16_t code, std::string text) {
  auto name = reply_code_name(code);
  if (!name.empty() && !std::string_view(text).starts_with(name))
    text = std::string(name) + " - " + text;
  return text;
}

} // namespace

std::string_view reply_code_name(std::uint16_t code) noexcept {
  switch (code) {
    case 311: return "CONTENT_TOO_LARGE";
    case 312: return "NO_ROUTE";
    case 313: return "NO_CONSUMERS";
    case 320: return "CONNECTION_FORCED";
    case 402: return "INVALID_PATH";
    case 403: return "ACCESS_REFUSED";
    case 404: return "NOT_FOUND";
    case 405: return "RESOURCE_LOCKED";
    case 406: return "PRECONDITION_FAILED";
    case 501: return "FRAME_ERROR";
    case 502: return "SYNTAX_ERROR";
    case 503: return "COMMAND_INVALID";
    case 504: return "CHANNEL_ERROR";
    case 505: return "UNEXPECTED_FRAME";
    case 506: return "RESOURCE_ERROR";
    case 530: return "NOT_ALLOWED";
    case 540: return "NOT_IMPLEMENTED";
    case 541: return "INTERNAL_ERROR";
    default: return {};
  }
}

failure describe(const amqp_rpc_reply_t& reply, std::string_view step) {
  failure out;
  std::string prefix = std::string(step) + ": ";
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return out;
    case AMQP_RESPONSE_NONE:
      out.scope = failure_scope::connection;
      out.message = prefix + "no reply (missing RPC reply type)";
      return out;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: {
      out.scope = failure_scope::connection;
      int status = reply.library_error;
      // rabbitmq-c says only "a SSL error occurred"; OpenSSL knows which (an alert from the
      // broker, a bad record...).
      bool is_tls = status <= AMQP_STATUS_SSL_ERROR && status > _AMQP_STATUS_SSL_NEXT_VALUE;
      std::string reason = is_tls ? detail::take_tls_error() : std::string{};
      out.message = prefix + (reason.empty() ? std::string(amqp_error_string2(status)) : "TLS error: " + reason);
      return out;
    }
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      break;
  }
  if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD && reply.reply.decoded) {
    const auto* m = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
    out.scope = failure_scope::channel;
    out.code = m->reply_code;
    out.message = prefix + server_reason(m->reply_code, std::string(text(m->reply_text)));
  } else if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD && reply.reply.decoded) {
    const auto* m = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
    out.scope = failure_scope::connection;
    out.code = m->reply_code;
    out.message = prefix + server_reason(m->reply_code, std::string(text(m->reply_text)));
  } else {
    out.scope = failure_scope::connection;
    const char* name = amqp_method_name(reply.reply.id);
    out.message = prefix + "unexpected reply " + (name ? name : "(unknown method)");
  }
  return out;
}

failure describe_status(int status, std::string_view step) {
  amqp_rpc_reply_t reply{};
  if (status == AMQP_STATUS_OK) {
    reply.reply_type = AMQP_RESPONSE_NORMAL;
  } else {
    reply.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
    reply.library_error = status;
  }
  return describe(reply, step);
}

failure describe_close(const amqp_method_t& method, std::string_view step) {
  amqp_rpc_reply_t reply{};
  reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
  reply.reply = method;
  return describe(reply, step);
}

} // namespace causeway::amqp
