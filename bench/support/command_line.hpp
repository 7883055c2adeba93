// command_line.hpp — how every benchmark reads its flags (CLI11).
//
// A benchmark's last stdout line is one JSON object (bench/run.sh contract), errors included:
// a bad flag is one line on stderr naming it, then {"name": ..., "error": ...} on stdout, and
// exit 2. --help prints the flags and exits 0.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

inline void parse_command_line(CLI::App& app, int argc, char** argv, const std::string& bench_name) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    std::exit(app.exit(e));
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), e.what());
    std::printf("%s\n", nlohmann::json{{"name", bench_name}, {"error", e.what()}}.dump().c_str());
    std::exit(2);
  }
}

/// The scripts pass their defaults first and the caller's flags after them: a flag given twice
/// takes its last value. Call before adding options.
inline void last_one_wins(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

/// CLI11 validator: a positive multiple of 100 (readings are preloaded in hundreds).
inline const CLI::Validator multiple_of_100{
  [](std::string& text) -> std::string {
    try {
      std::size_t used = 0;
      auto n = std::stoull(text, &used);
      if (used == text.size() && n > 0 && n % 100 == 0)
        return {};
    } catch (const std::exception&) {
    }
    return "must be a positive multiple of 100, got " + text;
  },
  "POSITIVE MULTIPLE OF 100"};

} // namespace bench
