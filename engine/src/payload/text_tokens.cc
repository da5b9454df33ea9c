#include "payload/text_tokens.h"

namespace quiver::payload {

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  TokenCursor cursor(text);
  std::string_view token;
  while (cursor.Next(&token)) {
    std::string lower(token);
    for (char& c : lower) c = AsciiLower(c);
    tokens.push_back(std::move(lower));
  }
  return tokens;
}

}  // namespace quiver::payload
