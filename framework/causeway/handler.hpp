// handler.hpp — the callbacks a user implements to give a pipeline its work.
//
// One handler object serves every stage of a pipeline, concurrently: its callbacks run on the
// stages' threads, so shared state inside it must be synchronised (or sharded by partition).
// An exception thrown by a callback fails the messages it was given, with the exception's text
// as reason; it never stops the stage.
#pragma once

#include "causeway/batch_info.hpp"
#include "causeway/message.hpp"

#include <any>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace causeway {

/// Which stage is calling, and the pipeline's user context (pipeline_options::context).
struct context {
  std::string_view stage;  ///< processor or batcher name
  std::size_t index = 0;   ///< instance of that stage, 0..concurrency-1
  const std::any* user = nullptr;
};

class handler {
public:
  virtual ~handler() = default;

  /// Sees every vector of messages a processor received, before handle_message; may parse
  /// or preload in bulk. Must keep the messages' number and order.
  virtual void prepare_messages(std::vector<message>& messages, const context& ctx);

  /// Processes one message: transform it, route it (put_batcher, put_batch_key) or fail it.
  virtual void handle_message(message& msg, const context& ctx) = 0;

  /// Processes one batch. Failing a message here fails only that message; throwing fails the
  /// whole batch.
  virtual void handle_batch(std::span<message> batch, const batch_info& info, const context& ctx);

  /// Sees failed messages before they reach their acknowledger.
  virtual void handle_failed(std::span<message> failed, const context& ctx);
};

} // namespace causeway
