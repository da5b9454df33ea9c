// The C API's result sets (quiver.h, "Result sets").
#include "capi/capi_internal.h"

namespace {

std::vector<quiver::Record> ToRecords(const std::vector<quiver::ScoredPoint>& points) {
  std::vector<quiver::Record> out;
  out.reserve(points.size());
  for (const auto& p : points) out.push_back(quiver::Record{p.id, p.payload, p.vectors, p.sparse_vectors});
  return out;
}

}  // namespace

using quiver::capi::Str;

extern "C" {

size_t qv_result_count(const qv_result* r) { return r ? r->points.size() : 0; }

uint64_t qv_result_id(const qv_result* r, size_t i) {
  if (!r || i >= r->points.size() || r->points[i].id.is_uuid()) return 0;
  return r->points[i].id.number();
}

const char* qv_result_id_str(const qv_result* r, size_t i) {
  return (r && i < r->ids.size()) ? r->ids[i].c_str() : nullptr;
}

float qv_result_score(const qv_result* r, size_t i) {
  return (r && i < r->points.size()) ? r->points[i].score : 0.0f;
}

const char* qv_result_payload(const qv_result* r, size_t i) {
  if (!r || i >= r->points.size() || !r->points[i].payload) return nullptr;
  return r->points[i].payload->c_str();
}

const float* qv_result_vector(const qv_result* r, size_t i, const char* name, size_t* dim) {
  if (dim) *dim = 0;
  if (!r || i >= r->points.size()) return nullptr;
  try {
    const auto& vectors = r->points[i].vectors;
    auto it = vectors.find(std::string(Str(name)));
    if (it == vectors.end()) return nullptr;
    if (dim) *dim = it->second.size();
    return it->second.data();
  } catch (...) {
    return nullptr;
  }
}

int qv_result_next_offset(const qv_result* r, uint64_t* offset) {
  if (!r || !r->next_offset || r->next_offset->is_uuid()) return 0;
  if (offset) *offset = r->next_offset->number();
  return 1;
}

const char* qv_result_json(qv_result* r) {
  if (!r) return nullptr;
  try {
    if (!r->json_built) {
      switch (r->kind) {
        case qv_result::Kind::kScored:
          quiver::api::PrintScoredPoints(r->points, {}, &r->json);
          break;
        case qv_result::Kind::kRecords:
          quiver::api::Print(quiver::api::Response(ToRecords(r->points)), {}, &r->json);
          break;
        case qv_result::Kind::kScroll: {
          quiver::ScrollResult page;
          page.points = ToRecords(r->points);
          page.next_page_offset = r->next_offset;
          quiver::api::Print(quiver::api::Response(std::move(page)), {}, &r->json);
          break;
        }
      }
      r->json_built = true;
    }
    return r->json.c_str();
  } catch (...) {
    return nullptr;
  }
}

void qv_result_free(qv_result* r) { delete r; }

}  // extern "C"
