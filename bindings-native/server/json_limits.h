// A cheap pass over a JSON text before it is parsed: how deeply its arrays and objects nest, so a hostile
// body ("[[[[...") is refused with a clear error before any parser recurses into it.
#ifndef QUIVER_SERVER_JSON_LIMITS_H_
#define QUIVER_SERVER_JSON_LIMITS_H_

#include <cstddef>
#include <string_view>

namespace quiver::server {

// How many '[' and '{' bytes the text holds: a bound on JsonDepth that a compiler vectorises, so the exact
// scan below is needed only for a body that could exceed the limit (a search body has three).
inline size_t JsonOpenings(std::string_view text) {
  size_t n = 0;
  for (const char c : text) n += static_cast<size_t>(c == '[') + static_cast<size_t>(c == '{');
  return n;
}

// The deepest nesting of '[' and '{' outside strings (0 for a scalar). Malformed text is measured as far as
// it goes; the parser reports what is wrong with it.
inline size_t JsonDepth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace quiver::server

#endif  // QUIVER_SERVER_JSON_LIMITS_H_
