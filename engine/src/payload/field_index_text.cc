// The full-text index: tokens to slots, for match text conditions.
#include "payload/field_index_parts.h"
#include "payload/text_tokens.h"

namespace quiver::payload::field_index_parts {
namespace {

namespace json = boost::json;

class TextIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kText; }
  bool Add(uint32_t slot, const json::value& v) override {
    return ForTokens(v, [&](std::string_view token) { postings_.Add(token, slot); });
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    return ForTokens(v, [&](std::string_view token) { postings_.Remove(token, slot); });
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr) return std::nullopt;
    if (m->mode == MatchText::Mode::kAny) return LookupByWalk(*this, p);
    std::optional<std::vector<const std::vector<uint32_t>*>> lists = AllLists(*m);
    if (!lists) return std::nullopt;
    if (lists->empty()) return FieldBound{{}, true, 1.0};
    // The slots holding every token, smallest list first.
    std::vector<uint32_t> out = *lists->front();
    for (size_t i = 1; i < lists->size() && !out.empty(); ++i) out = Intersect(out, *(*lists)[i]);
    // One token is exact; several may sit in different values of a point (one value must hold them all), and
    // a phrase also needs them in order.
    if (lists->size() == 1) return FieldBound{std::move(out), true, 1.0};
    return FieldBound{std::move(out), false, 1.0};
  }
  // text_any: the sum of the tokens' lists. text/phrase: at most the smallest token list; expected as if the
  // tokens were independent.
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr) return std::nullopt;
    if (m->mode == MatchText::Mode::kAny) return CountByWalk(*this, p, points);
    std::optional<std::vector<const std::vector<uint32_t>*>> lists = AllLists(*m);
    if (!lists) return std::nullopt;
    FieldCount c;
    c.exact = lists->size() <= 1;
    if (lists->empty()) return c;
    c.max = lists->front()->size();
    c.min = c.exact ? c.max : 0;
    c.expected = static_cast<double>(c.max);
    for (size_t i = 1; i < lists->size(); ++i) {
      c.expected *= points > 0 ? std::min(1.0, static_cast<double>((*lists)[i]->size()) / points) : 0.0;
    }
    return c;
  }
  size_t entries() const override { return postings_.entries(); }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    postings_.Encode(remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override { return postings_.Decode(in, slot_count); }

  // text_any: the union of the tokens' lists, exact.
  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr || m->mode != MatchText::Mode::kAny) return std::nullopt;
    for (const std::string& token : m->tokens) {
      if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token))) visit(*slots);
    }
    return Shape{};
  }

 private:
  // text/phrase: the tokens' lists, smallest first; empty when a token is in no list (nothing matches).
  // A query without tokens matches every string, which this index does not list: std::nullopt.
  std::optional<std::vector<const std::vector<uint32_t>*>> AllLists(const MatchText& m) const {
    if (m.tokens.empty()) return std::nullopt;
    std::vector<const std::vector<uint32_t>*> lists;
    for (const std::string& token : m.tokens) {
      const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token));
      if (slots == nullptr) return std::vector<const std::vector<uint32_t>*>();
      lists.push_back(slots);
    }
    std::sort(lists.begin(), lists.end(), [](const auto* a, const auto* b) { return a->size() < b->size(); });
    return lists;
  }

  template <typename Fn>
  bool ForTokens(const json::value& v, Fn&& fn) {
    const json::string* s = v.if_string();
    if (s == nullptr) return false;
    TokenCursor cursor(View(*s));
    std::string_view token;
    bool any = false;
    while (cursor.Next(&token)) {
      buffer_.assign(token.begin(), token.end());
      for (char& c : buffer_) c = AsciiLower(c);
      fn(std::string_view(buffer_));
      any = true;
    }
    return any;
  }

  Postings<std::string> postings_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<FieldIndex> MakeTextIndex() { return std::make_unique<TextIndex>(); }

}  // namespace quiver::payload::field_index_parts
