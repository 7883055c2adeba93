// The live-stream part of a connection (connection.hpp): how a request answered with a stream
// turns the connection into a viewer, and how a viewer takes each frame or is dropped.
#include "telluride/http/connection.hpp"

#include "telluride/http/sse_frame.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace telluride::http {

namespace {

response streams_full_response(std::size_t limit) {
  auto res = response::text(503, "too many live streams open (" + std::to_string(limit) + "); retry shortly\n");
  res.headers.push_back({"Retry-After", "5"});
  return res;
}

} // namespace

// The stream head and the latest frame go out at once; later frames as the fanout offers them.
// Requests pipelined behind the stream's are never answered: the response never ends.
void connection::start_stream(std::shared_ptr<event_feed> feed, const parsed_request& to) {
  const auto limit = context_.options->max_streams;
  if (context_.streams->size() >= limit) {
    respond(streams_full_response(limit), to);
    return;
  }
  timeline_.stream(now());
  --context_.open_connections;  // streams have their own cap
  backlog_.clear();
  owes_continue_ = false;
  feed_ = std::move(feed);
  context_.streams->add(*this, feed_);
  write(sse_stream_head(context_.options->stream_retry));
  send_latest_frame();
  update_reading();
}

void connection::send_latest_frame() {
  if (!timeline_.is<phase::streaming>())
    return;
  auto frame = feed_->latest();
  if (!frame.bytes || frame.serial == sent_serial_)
    return;
  sent_serial_ = frame.serial;
  if (uv_stream_get_write_queue_size(stream()) + frame.bytes->size() > context_.options->max_stream_buffer_bytes) {
    spdlog::info("http: closing a live stream whose viewer is over {} bytes behind",
                 context_.options->max_stream_buffer_bytes);
    ++context_.slow_viewers_dropped;
    close_now();
    return;
  }
  write_shared(std::move(frame.bytes));
}

} // namespace telluride::http
