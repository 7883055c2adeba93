#include "telluride/cli/commands.hpp"

#include <cstdlib>
#include <string>

namespace telluride::cli {

std::string amqp_url(const std::string& flag, const std::string& fallback) {
  if (!flag.empty())
    return flag;
  if (const char* env = std::getenv("TELLURIDE_AMQP_URL"); env != nullptr && *env != '\0')
    return env;
  return fallback;
}

} // namespace telluride::cli
