// The two frames every delivery starts with, which the frame reader decodes itself: cut short
// anywhere, with a byte too many, with headers of every kind, they come out as rabbitmq-c's
// decoders make them, or are refused as those refuse them.
#include "wire_frames.hpp"

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

using namespace wire_test;

TEST_CASE("a basic.deliver and basic properties cut short anywhere are refused as rabbitmq-c refuses them") {
  static plain_properties plain;
  amqp_basic_deliver_t deliver{};
  deliver.consumer_tag = view("ctag-1");
  deliver.delivery_tag = 0x0102030405060708;
  deliver.redelivered = 1;
  deliver.exchange = view("readings");
  deliver.routing_key = view("sensor-3");
  const std::string method = method_frame(1, AMQP_BASIC_DELIVER_METHOD, &deliver);
  static every_kind_headers flat(false);
  static every_kind_headers nested(true);
  const std::string header = header_frame(1, 17, &plain.props);
  const std::string flat_header = header_frame(1, 17, &flat.props);
  const std::string nested_header = header_frame(1, 17, &nested.props);
  // The arguments after the method ids; the properties after class, weight and body size.
  const std::tuple<std::uint8_t, std::string, std::string> frames[] = {
    {AMQP_FRAME_METHOD, method.substr(11, method.size() - 12), method.substr(7, 4)},
    {AMQP_FRAME_HEADER, header.substr(19, header.size() - 20), header.substr(7, 12)},
    {AMQP_FRAME_HEADER, flat_header.substr(19, flat_header.size() - 20), flat_header.substr(7, 12)},
    {AMQP_FRAME_HEADER, nested_header.substr(19, nested_header.size() - 20), nested_header.substr(7, 12)}};
  for (const auto& [type, args, prefix] : frames) {
    for (std::size_t keep = 0; keep <= args.size() + 1; ++keep) {
      CAPTURE(int{type});
      CAPTURE(keep);
      // One byte more than the arguments: a trailing byte, ignored by both.
      const std::string cut = keep <= args.size() ? args.substr(0, keep) : args + "x";
      const auto [library_rc, library_seen] = library_decoding(type, cut);
      frame_reader reader;
      const std::string bytes = frame_bytes(type, 1, prefix + cut);
      reader.append(bytes.data(), bytes.size());
      amqp_frame_t f;
      const int rc = reader.next(f, frame_max);
      if (library_rc < 0) {
        CHECK(rc == library_rc);
        CHECK(reader.unread().len == bytes.size());
      } else {
        REQUIRE(rc == 1);
        seen ours = copy(f);
        ours.channel = 0;
        ours.body_size = 0;
        CHECK(ours == library_seen);
      }
    }
  }
}

TEST_CASE("a headers table of a thousand entries, then a small one: both as rabbitmq-c decodes them") {
  std::vector<std::string> keys;
  std::vector<amqp_table_entry_t> entries(1000);
  keys.reserve(entries.size());  // the entries hold views of them
  for (std::size_t i = 0; i < entries.size(); ++i) {
    keys.push_back("k" + std::to_string(i));
    entries[i].key = view(keys.back());
    entries[i].value.kind = AMQP_FIELD_KIND_I32;
    entries[i].value.value.i32 = static_cast<std::int32_t>(i) - 500;
  }
  amqp_basic_properties_t big{};
  big._flags = AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  big.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
  big.message_id = view("big");
  static every_kind_headers small(false);
  const std::string stream = header_frame(1, 5, &big) + header_frame(1, 5, &small.props);
  const std::vector<seen> expected = library_frames(stream);
  REQUIRE(expected.size() == 2);
  CHECK(expected[0].headers.size() == 1000);
  CHECK(expected[0].headers[999] == "k999=I:499");
  CHECK(expected[1].headers.size() == 16);
  frame_reader reader;
  reader.append(stream.data(), stream.size());
  CHECK(decode_all(reader) == expected);
}
