// The C API's open options (quiver.h, "Open options").
#include "capi/capi_internal.h"

extern "C" {

int qv_options_create(qv_options** out) {
  if (!out) return QV_MISUSE;
  *out = new (std::nothrow) qv_options();
  return *out ? QV_OK : QV_NO_MEMORY;
}

int qv_options_set(qv_options* options, const char* key, const char* value) {
  if (!options || !key || !value) return QV_MISUSE;
  try {
    std::string_view k(key), v(value);
    auto parse_bool = [&](bool* out) {
      if (v == "true" || v == "1")
        *out = true;
      else if (v == "false" || v == "0")
        *out = false;
      else
        return false;
      return true;
    };
    auto parse_size = [&](size_t* out) {
      if (v.empty() || v.size() > 18) return false;
      size_t n = 0;
      for (char ch : v) {
        if (ch < '0' || ch > '9') return false;
        n = n * 10 + size_t(ch - '0');
      }
      *out = n;
      return true;
    };
    if (k == "durability") {
      if (v == "sync")
        options->options.durability = quiver::Durability::kSync;
      else if (v == "batched")
        options->options.durability = quiver::Durability::kBatched;
      else if (v == "none")
        options->options.durability = quiver::Durability::kNone;
      else
        return QV_INVALID_ARGUMENT;
      return QV_OK;
    }
    if (k == "read_only") return parse_bool(&options->options.read_only) ? QV_OK : QV_INVALID_ARGUMENT;
    if (k == "auto_optimize")
      return parse_bool(&options->options.auto_optimize) ? QV_OK : QV_INVALID_ARGUMENT;
    if (k == "segment_points") {
      size_t n = 0;
      if (!parse_size(&n) || n == 0) return QV_INVALID_ARGUMENT;
      options->options.segment_points = n;
      return QV_OK;
    }
    if (k == "threads") {
      if (v == "auto") {
        options->auto_threads = true;
        return QV_OK;
      }
      size_t n = 0;
      if (!parse_size(&n) || n > 1024) return QV_INVALID_ARGUMENT;
      options->auto_threads = false;
      options->threads = n;
      return QV_OK;
    }
    return QV_INVALID_ARGUMENT;
  } catch (...) {
    return QV_NO_MEMORY;
  }
}

void qv_options_destroy(qv_options* options) { delete options; }

}  // extern "C"
