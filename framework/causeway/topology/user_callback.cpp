#include "causeway/topology/user_callback.hpp"

#include <exception>

namespace causeway::topology {

std::string current_exception_reason(std::string_view step) {
  std::string reason{step};
  reason += " threw: ";
  try {
    throw;
  } catch (const std::exception& e) {
    reason += e.what();
  } catch (...) {
    reason += "unknown exception";
  }
  return reason;
}

} // namespace causeway::topology
