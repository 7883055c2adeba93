#include "causeway/handler.hpp"

namespace causeway {

void handler::prepare_messages(std::vector<message>&, const context&) {}

void handler::handle_batch(std::span<message>, const batch_info&, const context&) {}

void handler::handle_failed(std::span<message>, const context&) {}

} // namespace causeway
