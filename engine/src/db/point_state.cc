#include "db/point_state.h"

#include <algorithm>

namespace quiver::db {

bool PointState::ResetPayload(const Stamp& s) {
  if (s <= payload_reset) return false;
  payload_reset = s;
  bool changed = false;
  auto keep = key_stamps.begin();
  for (auto it = key_stamps.begin(); it != key_stamps.end(); ++it) {
    if (it->stamp < s) {
      changed |= payload.erase(it->key) > 0;
    } else {
      if (keep != it) *keep = std::move(*it);
      ++keep;
    }
  }
  key_stamps.erase(keep, key_stamps.end());
  return changed;
}

bool PointState::WriteKey(std::string_view key, const Stamp& s, const boost::json::value* value) {
  if (s < payload_reset) return false;
  auto it = std::lower_bound(key_stamps.begin(), key_stamps.end(), key,
                             [](const KeyStamp& ks, std::string_view k) { return ks.key < k; });
  if (it != key_stamps.end() && it->key == key) {
    if (s <= it->stamp) return false;
    it->stamp = s;
  } else {
    key_stamps.insert(it, KeyStamp{std::string(key), s});
  }
  if (value) {
    payload[key] = *value;
    return true;
  }
  return payload.erase(key) > 0;
}

}  // namespace quiver::db
