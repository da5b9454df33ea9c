#include "text/unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace quiver::text {
namespace {

struct CodeRange {
  char32_t first, last;
};
struct CodePair {
  char32_t from, to;
};
struct CodeFold {
  char32_t from;
  const char* ascii;
};

#include "text/unicode_tables.inc"

bool InRanges(const CodeRange* begin, const CodeRange* end, char32_t cp) {
  const CodeRange* it = std::upper_bound(begin, end, cp, [](char32_t c, const CodeRange& r) { return c < r.first; });
  return it != begin && cp <= (it - 1)->last;
}

bool IsCased(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  return IsWordChar(cp) && !(cp >= '0' && cp <= '9');
}

}  // namespace

char32_t DecodeUtf8(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size(), i = *pos;
  const unsigned char c = p[i];
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  if (c >= 0xC2 && c < 0xE0 && cont(1)) {
    *pos = i + 2;
    return char32_t(c & 0x1F) << 6 | (p[i + 1] & 0x3F);
  }
  if (c >= 0xE0 && c < 0xF0 && cont(1) && cont(2)) {
    const char32_t cp = char32_t(c & 0x0F) << 12 | char32_t(p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      *pos = i + 3;
      return cp;
    }
  }
  if (c >= 0xF0 && c < 0xF5 && cont(1) && cont(2) && cont(3)) {
    const char32_t cp = char32_t(c & 0x07) << 18 | char32_t(p[i + 1] & 0x3F) << 12 | char32_t(p[i + 2] & 0x3F) << 6 |
                        (p[i + 3] & 0x3F);
    if (cp >= 0x10000 && cp < 0x110000) {
      *pos = i + 4;
      return cp;
    }
  }
  *pos = i + 1;
  return 0xFFFD;
}

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    const char32_t cp = DecodeUtf8(s, &pos);
    if (cp == 0xFFFD && pos == start + 1) {
      AppendUtf8(cp, &out);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size(); ++n) DecodeUtf8(s, &pos);
  return n;
}

bool IsWordChar(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  return InRanges(std::begin(kWordRanges), std::end(kWordRanges), cp);
}

bool IsSpace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F);
  return InRanges(std::begin(kSpaceRanges), std::end(kSpaceRanges), cp);
}

std::string Lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  bool after_cased = false;
  while (pos < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
      after_cased = IsCased(c);
      ++pos;
      continue;
    }
    const char32_t cp = DecodeUtf8(s, &pos);
    if (cp == 0x130) {
      out.append("i\xCC\x87");  // i, combining dot above
    } else if (cp == 0x3A3) {
      // Final sigma: after a cased letter and not before one.
      size_t next = pos;
      const bool before_cased = next < s.size() && IsCased(DecodeUtf8(s, &next));
      AppendUtf8(after_cased && !before_cased ? char32_t{0x3C2} : char32_t{0x3C3}, &out);
    } else {
      const CodePair* it = std::lower_bound(std::begin(kLowerPairs), std::end(kLowerPairs), cp,
                                            [](const CodePair& p, char32_t c) { return p.from < c; });
      AppendUtf8(it != std::end(kLowerPairs) && it->from == cp ? it->to : cp, &out);
    }
    after_cased = IsCased(cp);
  }
  return out;
}

std::string FoldToAscii(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      out.push_back(s[pos++]);
      continue;
    }
    const size_t start = pos;
    const char32_t cp = DecodeUtf8(s, &pos);
    const CodeFold* it = std::lower_bound(std::begin(kFolds), std::end(kFolds), cp,
                                          [](const CodeFold& f, char32_t c) { return f.from < c; });
    if (it != std::end(kFolds) && it->from == cp) {
      out.append(it->ascii);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

}  // namespace quiver::text
