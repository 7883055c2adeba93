// amqps://: publishing and consuming through TLS, and every way a TLS connection is refused,
// against a private broker whose TLS listener requires a client certificate (tls_broker.hpp).
#include "pipeline_helpers.hpp"
#include "tls_broker.hpp"

#include "causeway/amqp/channel.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace amqp_test;

namespace {

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

// Message i: its number, and for the last ones a body larger than a TLS record (16 KiB),
// up to one larger than a frame (128 KiB), so deliveries span many records and frames.
std::string body_of(std::size_t i, std::size_t small_count) {
  if (i < small_count)
    return std::to_string(i);
  static constexpr std::size_t sizes[] = {16 * 1024 + 1, 64 * 1024, 200 * 1000};
  std::size_t size = sizes[i % 3];
  std::string body = std::to_string(i) + ":";
  body.append(size - body.size(), static_cast<char>('a' + i % 26));
  return body;
}

amqp::connection_options tls_connection(std::string url, std::string name = unique_name("causeway-tls")) {
  auto o = test_connection(std::move(name), std::move(url));
  o.reconnect.initial = 50ms;
  return o;
}

// The message of a connection to `url` that must fail (empty if it opened).
std::string refusal(const std::string& url) {
  auto conn = amqp::connection::open(tls_connection(url));
  return conn ? std::string{} : conn.err().message;
}

// Publishes `total` messages (body_of) to `queue` through TLS: the publisher writes its frames
// with SSL_write.
void publish_all(const std::string& url, const std::string& queue, std::size_t total, std::size_t small_count) {
  amqp::publisher_options publishing;
  publishing.connection = tls_connection(url, unique_name("causeway-tls-publisher"));
  publishing.confirm_window = 2000;
  auto pub = amqp::publisher::open(publishing);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.err().message));
  for (std::size_t i = 0; i < total; ++i)
    (*pub)->publish("", queue, body_of(i, small_count), amqp::message_properties{});
  REQUIRE((*pub)->wait_confirmed(120s));
  CHECK((*pub)->stats().confirmed == total);
}

// Consumes the `total` messages of `queue` through a pipeline and checks each came once, intact.
void consume_all(const std::string& url, const scoped_queue& queue, std::chrono::milliseconds read_interval,
                 std::size_t total, std::size_t small_count) {
  // No heartbeats: their timer reads too, and would hide a delivery left inside OpenSSL.
  amqp::queue_source_options consuming;
  consuming.connection = tls_connection(url, unique_name("causeway-tls-consumer"));
  consuming.connection.heartbeat = 0s;
  consuming.connection.read_interval = read_interval;
  consuming.queue = queue.name;
  consuming.prefetch_count = 1000;
  auto source = amqp::queue_source::open(consuming);
  REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  auto handler = std::make_shared<counting_handler>(total);
  handler->judge = [small_count](causeway::message& m) -> std::string {
    auto index = std::stoul(m.data);
    return m.data == body_of(index, small_count) ? "" : "body of message " + std::to_string(index) + " differs";
  };
  {
    pipeline_env env;
    auto p = start_pipeline(env.system, **source, handler);
    CHECK(wait_until([&] { return handler->handled + handler->failures >= total; }, 60s));
    p.drain();
    p.stop();
  }
  auto [missing, duplicates] = handler->missing_and_duplicates();
  CHECK(missing == 0);
  CHECK(duplicates == 0);
  CHECK(handler->failures == 0);
  CHECK(handler->handled == total);
  CHECK((*source)->stats().acked == total);
  source->reset();
  auto left = amqp::inspect_queue(*queue.admin, queue.name);
  REQUIRE_MESSAGE(left, (left ? "" : left.err().message));
  CHECK(left->messages_ready == 0);
}

} // namespace

TEST_CASE("over amqps each message arrives once and intact, small ones and bodies larger than a TLS record, and heartbeats keep a quiet connection") {
  tls_broker tls{3};
  const std::string url = tls.url(tls.trusted_query());
  constexpr std::size_t small_count = 20000;
  constexpr std::size_t large_count = 60;
  constexpr std::size_t total = small_count + large_count;
  scoped_queue queue("causeway-tls", {}, url);
  // A quiet connection with 1 s heartbeats, looked at once the rest is done.
  auto quiet_options = tls_connection(url, unique_name("causeway-tls-quiet"));
  quiet_options.heartbeat = 1s;
  auto quiet = amqp::connection::open(quiet_options);
  REQUIRE_MESSAGE(quiet, (quiet ? "" : quiet.err().message));
  auto quiet_since = std::chrono::steady_clock::now();

  publish_all(url, queue.name, total, small_count);

  // Every connection the broker has is a TLS one.
  REQUIRE(tls.broker().ctl("list_connections --no-table-headers ssl_protocol") == 0);
  MESSAGE("TLS versions of the connections: " << tls.broker().last_output());
  REQUIRE(tls.broker().ctl("list_connections --no-table-headers ssl") == 0);
  std::istringstream lines(tls.broker().last_output());
  int tls_connections = 0;
  for (std::string line; std::getline(lines, line);) {
    CHECK(line == "true");
    ++tls_connections;
  }
  CHECK(tls_connections >= 1);

  // Read pacing on (1 ms, the default) and off (a read per readable event: only the check for
  // input inside OpenSSL keeps deliveries from waiting there for a readable socket).
  for (auto read_interval : {1ms, 0ms}) {
    CAPTURE(read_interval.count());
    consume_all(url, queue, read_interval, total, small_count);
    if (read_interval.count() > 0)
      publish_all(url, queue.name, total, small_count);
  }

  std::this_thread::sleep_until(quiet_since + 5s);
  auto quiet_stats = (*quiet)->stats();
  CHECK(quiet_stats.is_connected);
  CHECK(quiet_stats.connects == 1);
  CHECK(quiet_stats.losses == 0);
  quiet->reset();
  CHECK(amqp::connection::unclean_loop_closes() == 0);
}

TEST_CASE("amqps connects only to a broker it can verify, with a client certificate, and says why not in one line") {
  tls_broker tls{4};
  const test_pki& pki = tls.pki();
  const std::string client = "&certfile=" + pki.client_cert() + "&keyfile=" + pki.client_key();

  {
    INFO("the trusted CA, by IP address and by name, opens, and so does verify_none without a CA");
    for (const auto& url : {tls.url(tls.trusted_query()), tls.url(tls.trusted_query(), "localhost"),
                            tls.url("verify=verify_none" + client),
                            tls.url(tls.trusted_query() + "&server_name_indication=disable")}) {
      CAPTURE(url);
      auto conn = amqp::connection::open(tls_connection(url));
      CHECK_MESSAGE(conn, (conn ? "" : conn.err().message));
    }
  }
  {
    INFO("a certificate from another CA does not verify");
    auto why = refusal(tls.url("cacertfile=" + pki.other_ca() + client));
    MESSAGE(why);
    CHECK(one_line(why));
    // The broker sends its CA along: that one is what does not verify.
    CHECK(why == "TLS handshake with 127.0.0.1:" + std::to_string(tls.tls_port()) +
                   ": the broker's certificate does not verify: self-signed certificate in certificate chain");
  }
  {
    INFO("a name the certificate is not for is refused");
    auto why = refusal(tls.url(tls.trusted_query() + "&server_name_indication=broker.example"));
    MESSAGE(why);
    CHECK(why == "TLS handshake with 127.0.0.1:" + std::to_string(tls.tls_port()) +
                   ": the broker's certificate is not for broker.example (hostname mismatch)");
  }
  {
    INFO("without a client certificate the broker refuses the connection");
    auto why = refusal(tls.url("cacertfile=" + pki.ca()));
    MESSAGE(why);
    CHECK(one_line(why));
    // TLS 1.3: the refusal comes after the handshake, as an alert or just a closed connection.
    CHECK(why.starts_with("login to amqps://guest:***@127.0.0.1:" + std::to_string(tls.tls_port()) + "/%2F: "));
    CHECK(why.ends_with("; the broker asked for a client certificate and the URL gives none (certfile, keyfile)"));
  }
  {
    INFO("a missing, a useless or a mismatched file is named");
    auto missing = refusal(tls.url("cacertfile=" + pki.file("nope.pem") + client));
    CHECK(missing == "TLS: cannot read cacertfile \"" + pki.file("nope.pem") + "\": No such file or directory");
    auto folder = refusal(tls.url("cacertfile=" + pki.dir() + client));
    CHECK(folder == "TLS: cannot read cacertfile \"" + pki.dir() + "\": not a regular file");
    auto garbage = pki.write("garbage.pem", "not a certificate\n");
    auto useless = refusal(tls.url("cacertfile=" + garbage + client));
    MESSAGE(useless);
    CHECK(useless.starts_with("TLS: cacertfile \"" + garbage + "\" holds no usable CA certificate: "));
    auto mismatched = refusal(tls.url(tls.trusted_query().substr(0, tls.trusted_query().find("&keyfile=")) +
                                      "&keyfile=" + pki.file("other-ca.key")));
    MESSAGE(mismatched);
    CHECK(mismatched.starts_with("TLS: cannot use certfile \"" + pki.client_cert() + "\" with keyfile \"" +
                                 pki.file("other-ca.key") + "\": "));
    CHECK(mismatched.find("mismatch") != std::string::npos);
    for (const auto& why : {missing, folder, useless, mismatched})
      CHECK(one_line(why));
  }
  {
    INFO("TLS to the plain AMQP port is named as such");
    auto why = refusal("amqps://guest:guest@127.0.0.1:" + std::to_string(tls.broker().port()) + "/%2f?" +
                       tls.trusted_query());
    MESSAGE(why);
    CHECK(one_line(why));
    CHECK(why.starts_with("TLS handshake with 127.0.0.1:" + std::to_string(tls.broker().port()) + ": "));
  }
  CHECK(amqp::connection::unclean_loop_closes() == 0);
}
