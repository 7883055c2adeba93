// overloaded.hpp — one visitor from several lambdas, for std::visit over a variant:
//
//   std::visit(overloaded{[](const idle&) { ... }, [](const running&) { ... }}, phase);
#pragma once

namespace causeway::detail {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

} // namespace causeway::detail
