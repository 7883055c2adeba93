#include "causeway/amqp/channel.hpp"
#include "causeway/amqp/queue_channel_phase.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace causeway::amqp;
using namespace causeway::amqp::detail;

namespace {

enum class event {
  attach,
  attach_refused,
  opened,
  set_up,
  consuming_as,
  cancel_ok,
  broker_cancel,
  lost,
  closed,
  drain_usable,
  drain_unusable,
  cancel_failed,
};

const char* event_name(event e) {
  switch (e) {
    case event::attach: return "attach";
    case event::attach_refused: return "attach_refused";
    case event::opened: return "opened";
    case event::set_up: return "set_up";
    case event::consuming_as: return "consuming_as";
    case event::cancel_ok: return "cancel_ok";
    case event::broker_cancel: return "broker_cancel";
    case event::lost: return "lost";
    case event::closed: return "closed";
    case event::drain_usable: return "drain_usable";
    case event::drain_unusable: return "drain_unusable";
    case event::cancel_failed: return "cancel_failed";
  }
  return "?";
}

// The channel the phases point to; never used, only compared.
channel the_channel;

// Applies `e` and returns its step (`nothing` for the events that return none).
queue_channel_step apply(queue_channel_lifecycle& life, event e) {
  switch (e) {
    case event::attach: life.attach(); return queue_channel_step::nothing;
    case event::attach_refused: life.attach_refused(); return queue_channel_step::nothing;
    case event::opened: life.opened(the_channel, 3); return queue_channel_step::nothing;
    case event::set_up: return life.set_up();
    case event::consuming_as: life.consuming_as("amq.ctag-1"); return queue_channel_step::nothing;
    case event::cancel_ok: return life.cancelled(false);
    case event::broker_cancel: return life.cancelled(true);
    case event::lost: return life.lost();
    case event::closed: return life.closed();
    case event::drain_usable: return life.start_draining(true);
    case event::drain_unusable: return life.start_draining(false);
    case event::cancel_failed: return life.cancel_failed();
  }
  return queue_channel_step::nothing;
}

struct transition {
  std::vector<event> before;  // from a fresh lifecycle
  event what;
  const char* phase;          // afterwards
  const char* drain;
  queue_channel_step step;
};

const std::vector<event> consuming_path{event::attach, event::opened, event::set_up, event::consuming_as};
const std::vector<event> cancelling_path{event::attach, event::opened, event::set_up, event::consuming_as,
                                         event::drain_usable};

} // namespace

TEST_CASE("a fresh consumer lifecycle is detached, not draining, with no live channel") {
  queue_channel_lifecycle life;
  CHECK(std::string(name(life.phase())) == "detached");
  CHECK(life.drain() == drain_phase::not_draining);
  CHECK_FALSE(life.is_attached());
  CHECK(life.live() == nullptr);
  CHECK(life.consumer_tag() == nullptr);
}

TEST_CASE("each consumer event moves the channel and the drain as the tables in queue_channel_phase.hpp say") {
  using s = queue_channel_step;
  const std::vector<transition> table{
    // the channel
    {{}, event::attach, "channel_closed", "not_draining", s::nothing},
    {{event::attach}, event::attach_refused, "detached", "not_draining", s::nothing},
    {{event::attach}, event::opened, "channel_open", "not_draining", s::nothing},
    {{}, event::opened, "detached", "not_draining", s::nothing},
    {{event::attach, event::opened}, event::set_up, "channel_open", "not_draining", s::consume},
    {{event::attach}, event::set_up, "channel_closed", "not_draining", s::nothing},
    {{event::attach, event::opened}, event::consuming_as, "consuming", "not_draining", s::nothing},
    {{event::attach}, event::consuming_as, "channel_closed", "not_draining", s::nothing},
    {consuming_path, event::cancel_ok, "channel_open", "not_draining", s::nothing},
    {consuming_path, event::broker_cancel, "channel_open", "not_draining", s::fail_channel},
    {consuming_path, event::lost, "channel_closed", "not_draining", s::nothing},
    {{event::attach, event::opened}, event::lost, "channel_closed", "not_draining", s::nothing},
    {{}, event::lost, "detached", "not_draining", s::nothing},
    {consuming_path, event::closed, "detached", "not_draining", s::nothing},
    {{event::attach}, event::closed, "detached", "not_draining", s::nothing},
    // the drain
    {consuming_path, event::drain_usable, "consuming", "cancelling", s::send_cancel},
    {consuming_path, event::drain_unusable, "consuming", "drained", s::finish_drain},
    {{event::attach, event::opened}, event::drain_usable, "channel_open", "drained", s::finish_drain},
    {{event::attach}, event::drain_usable, "channel_closed", "drained", s::finish_drain},
    {{}, event::drain_usable, "detached", "drained", s::finish_drain},
    {cancelling_path, event::cancel_failed, "consuming", "drained", s::finish_drain},
    {cancelling_path, event::cancel_ok, "channel_open", "drained", s::finish_drain},
    {cancelling_path, event::broker_cancel, "channel_open", "drained", s::finish_drain},
    {cancelling_path, event::lost, "channel_closed", "drained", s::finish_drain},
    {cancelling_path, event::closed, "detached", "drained", s::finish_drain},
    {cancelling_path, event::drain_usable, "consuming", "cancelling", s::nothing},
    {{event::attach, event::opened, event::set_up, event::consuming_as, event::drain_unusable},
     event::broker_cancel, "channel_open", "drained", s::nothing},
    {{event::attach, event::opened, event::set_up, event::consuming_as, event::drain_unusable},
     event::drain_usable, "consuming", "drained", s::nothing},
    {{event::attach, event::opened, event::set_up, event::consuming_as, event::drain_unusable},
     event::cancel_failed, "consuming", "drained", s::nothing},
    {{event::attach, event::opened, event::drain_usable, event::lost, event::opened}, event::set_up,
     "channel_open", "drained", s::nothing},
    {{event::attach, event::opened, event::set_up, event::consuming_as, event::drain_usable, event::opened},
     event::set_up, "channel_open", "drained", s::finish_drain},
  };
  for (const auto& t : table) {
    queue_channel_lifecycle life;
    std::string path;
    for (auto e : t.before) {
      apply(life, e);
      path += std::string(event_name(e)) + " ";
    }
    CAPTURE(path);
    CAPTURE(event_name(t.what));
    auto step = apply(life, t.what);
    CHECK(std::string(name(life.phase())) == t.phase);
    CHECK(std::string(name(life.drain())) == t.drain);
    CHECK(std::string(name(step)) == name(t.step));
  }
}

TEST_CASE("attaching twice is refused until the consumer is closed") {
  queue_channel_lifecycle life;
  CHECK(life.attach());
  CHECK_FALSE(life.attach());
  life.opened(the_channel, 1);
  CHECK_FALSE(life.attach());
  CHECK(std::string(name(life.phase())) == "channel_open");
  life.closed();
  CHECK(life.attach());
}

TEST_CASE("the live channel carries its generation, and the consuming phase its consumer tag") {
  queue_channel_lifecycle life;
  life.attach();
  life.opened(the_channel, 7);
  REQUIRE(life.live() != nullptr);
  CHECK(life.live()->ch == &the_channel);
  CHECK(life.live()->epoch == 7);
  CHECK(life.consumer_tag() == nullptr);
  life.consuming_as("amq.ctag-42");
  REQUIRE(life.consumer_tag() != nullptr);
  CHECK(*life.consumer_tag() == "amq.ctag-42");
  CHECK(life.live()->epoch == 7);
  life.lost();
  CHECK(life.live() == nullptr);
  CHECK(life.consumer_tag() == nullptr);
  life.opened(the_channel, 8);
  CHECK(life.live()->epoch == 8);
}

TEST_CASE("a drain finishes exactly once, however many ways it can end") {
  queue_channel_lifecycle life;
  for (auto e : cancelling_path)
    apply(life, e);
  int finished = 0;
  for (auto e : {event::cancel_ok, event::broker_cancel, event::cancel_failed, event::lost, event::opened,
                 event::set_up, event::drain_usable, event::closed})
    finished += apply(life, e) == queue_channel_step::finish_drain ? 1 : 0;
  CHECK(finished == 1);
  CHECK(life.drain() == drain_phase::drained);
}
