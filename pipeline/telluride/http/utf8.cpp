#include "telluride/http/utf8.hpp"

// simdjson's validator, kept to this one file: the header is large.
#include <simdjson.h>

namespace telluride::http {

bool is_valid_utf8(std::string_view text) noexcept {
  return simdjson::validate_utf8(text.data(), text.size());
}

} // namespace telluride::http
