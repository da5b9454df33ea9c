#include "payload/json_path.h"

#include <cstdint>
#include <string>

namespace quiver::payload {
namespace {

bool IsRawKeyChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u == '-' ||
         u >= 0x80;
}

bool NeedsQuoting(std::string_view key) {
  if (key.empty()) return true;
  for (char c : key) {
    if (!IsRawKeyChar(c)) return true;
  }
  return false;
}

// Shortens long inputs in messages.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

}  // namespace

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  auto bad = [&](std::string_view reason, size_t offset) {
    return Status::InvalidArgument(Quote(text) + " is not a valid key path: " + std::string(reason) +
                                   " at offset " + std::to_string(offset));
  };
  if (text.empty()) return Status::InvalidArgument("'' is not a valid key path: it is empty");

  JsonPath path;
  size_t pos = 0;
  // Reads a raw or quoted key at pos into *key.
  auto read_key = [&](std::string* key) -> Status {
    if (pos < text.size() && text[pos] == '"') {
      const size_t start = pos;
      ++pos;
      while (pos < text.size() && text[pos] != '"') {
        if (text[pos] == '\\') return bad("a quoted key cannot contain '\\'", pos);
        ++pos;
      }
      if (pos == text.size()) return bad("unterminated quoted key", start);
      *key = std::string(text.substr(start + 1, pos - start - 1));
      ++pos;
      return Status::OK();
    }
    const size_t start = pos;
    while (pos < text.size() && IsRawKeyChar(text[pos])) ++pos;
    if (pos == start) return bad("expected a key", pos);
    *key = std::string(text.substr(start, pos - start));
    return Status::OK();
  };

  Item first;
  QUIVER_RETURN_IF_ERROR(read_key(&first.key));
  path.items_.push_back(std::move(first));
  while (pos < text.size()) {
    if (text[pos] == '.') {
      ++pos;
      Item item;
      QUIVER_RETURN_IF_ERROR(read_key(&item.key));
      path.items_.push_back(std::move(item));
    } else if (text[pos] == '[') {
      const size_t start = pos;
      ++pos;
      Item item;
      if (pos < text.size() && text[pos] == ']') {
        item.kind = Item::Kind::kWildcard;
      } else {
        size_t n = 0;
        const size_t digits_start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (n > (SIZE_MAX - 9) / 10) return bad("array index is too large", digits_start);
          n = n * 10 + static_cast<size_t>(text[pos] - '0');
          ++pos;
        }
        if (pos == digits_start || pos == text.size() || text[pos] != ']') {
          return bad("expected '[]' or '[<index>]'", start);
        }
        item.kind = Item::Kind::kIndex;
        item.index = n;
      }
      ++pos;  // ']'
      path.items_.push_back(std::move(item));
    } else {
      return bad("expected '.', '[' or the end", pos);
    }
  }
  path.RebuildText();
  return path;
}

JsonPath JsonPath::ArrayElements() const {
  JsonPath out = *this;
  if (!out.ends_with_wildcard()) {
    Item item;
    item.kind = Item::Kind::kWildcard;
    out.items_.push_back(std::move(item));
    out.RebuildText();
  }
  return out;
}

JsonPath JsonPath::Concat(const JsonPath& relative) const {
  JsonPath out = *this;
  out.items_.insert(out.items_.end(), relative.items_.begin(), relative.items_.end());
  out.RebuildText();
  return out;
}

void JsonPath::RebuildText() {
  text_.clear();
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& item = items_[i];
    switch (item.kind) {
      case Item::Kind::kKey:
        if (i > 0) text_.push_back('.');
        if (NeedsQuoting(item.key)) {
          text_.push_back('"');
          text_ += item.key;
          text_.push_back('"');
        } else {
          text_ += item.key;
        }
        break;
      case Item::Kind::kIndex:
        text_ += '[';
        text_ += std::to_string(item.index);
        text_ += ']';
        break;
      case Item::Kind::kWildcard:
        text_ += "[]";
        break;
    }
  }
}

}  // namespace quiver::payload
