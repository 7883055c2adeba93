#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/describe.hpp"

#include <amqp_framing.h>
#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace causeway::amqp;

namespace {


} // namespace

TEST_CASE("a normal reply is no failure") {
  amqp_rpc_reply_t reply{};
  reply.reply_type = AMQP_RESPONSE_NORMAL;
  failure f = describe(reply, "declare queue \"q\"");
  CHECK_FALSE(f);
  CHECK(f.scope == failure_scope::none);
}

TEST_CASE("channel.close is a channel-level failure with the broker's reason") {
  amqp_channel_close_t close{};
  close.reply_code = 406;
  close.reply_text = view("PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' "
                           "in vhost '/': received '10' but current is '20'");
  amqp_rpc_reply_t reply{};
  reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
  reply.reply.id = AMQP_CHANNEL_CLOSE_METHOD;
  reply.reply.decoded = &close;
  failure f = describe(reply, "declare queue \"q\"");
  CHECK(f.scope == failure_scope::channel);
  CHECK(f.code == 406);
  CHECK(f.message ==
        "declare queue \"q\": PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue "
        "'q' in vhost '/': received '10' but current is '20'");
}

TEST_CASE("connection.close is a connection-level failure and gets its code name if missing") {
  amqp_connection_close_t close{};
  close.reply_code = 530;
  close.reply_text = view("vhost nope not found");
  amqp_method_t method{AMQP_CONNECTION_CLOSE_METHOD, &close};
  failure f = describe_close(method, "login to amqp://guest:***@h:5672/nope");
  CHECK(f.scope == failure_scope::connection);
  CHECK(f.code == 530);
  CHECK(f.message == "login to amqp://guest:***@h:5672/nope: NOT_ALLOWED - vhost nope not found");
}

TEST_CASE("library errors are connection-level and use rabbitmq-c's wording") {
  failure f = describe_status(AMQP_STATUS_HEARTBEAT_TIMEOUT, "read from h:5672");
  CHECK(f.scope == failure_scope::connection);
  CHECK(f.code == 0);
  CHECK(f.message == std::string("read from h:5672: ") + amqp_error_string2(AMQP_STATUS_HEARTBEAT_TIMEOUT));
  CHECK_FALSE(describe_status(AMQP_STATUS_OK, "x"));
}

TEST_CASE("every failure is one line") {
  failure f = describe_status(AMQP_STATUS_SOCKET_ERROR, "connect to 127.0.0.1:1");
  CHECK(f.message.find('\n') == std::string::npos);
  CHECK(reply_code_name(320) == "CONNECTION_FORCED");
  CHECK(reply_code_name(999).empty());
}
