// string_makers.hpp — how doctest prints the containers these tests compare.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static doctest::String convert(const std::vector<std::string>& ss) {
    std::string out = "{";
    for (const auto& s : ss)
      out.append(" \"").append(s).append("\"");
    return out.append(" }").c_str();
  }
};
