#include "db/op.h"

namespace quiver::db {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kUpsert:
      return "upsert";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kSetPayload:
      return "set_payload";
    case OpKind::kOverwritePayload:
      return "overwrite_payload";
    case OpKind::kDeletePayloadKeys:
      return "delete_payload_keys";
    case OpKind::kClearPayload:
      return "clear_payload";
  }
  return "unknown";
}

}  // namespace quiver::db
