// CollectionCore: its configuration (validation, vector spaces, updates, payload index fields) and creation.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <mutex>
#include <set>

#include "db/collection_core.h"
#include "index/hnsw_index.h"
#include "index/vector_store.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Status ValidateHnsw(const HnswConfig& h, const std::string& where) {
  if (h.m < index::kMinHnswM || h.m > index::kMaxHnswM) {
    return Status::InvalidArgument(where + ".m: " + std::to_string(h.m) + " is out of range 2..128");
  }
  if (h.ef_construct < 4) {
    return Status::InvalidArgument(where + ".ef_construct: " + std::to_string(h.ef_construct) +
                                   " is below 4");
  }
  return Status::OK();
}

Status ValidateQuantization(const std::optional<ScalarQuantization>& q, const std::string& where) {
  if (q && !(q->quantile >= 0.5 && q->quantile <= 1.0)) {
    return Status::InvalidArgument(where + ".scalar.quantile: " + std::to_string(q->quantile) +
                                   " is out of range 0.5..1");
  }
  return Status::OK();
}

}  // namespace

std::string VectorLabel(std::string_view name) {
  return name.empty() ? "vector" : "vector '" + std::string(name) + "'";
}

Status ValidateConfig(const CollectionConfig& config) {
  if (config.vectors.empty() && config.sparse_vectors.empty())
    return Status::InvalidArgument("vectors: a collection needs at least one vector or sparse vector");
  QUIVER_RETURN_IF_ERROR(ValidateHnsw(config.hnsw, "hnsw_config"));
  QUIVER_RETURN_IF_ERROR(ValidateQuantization(config.quantization, "quantization_config"));
  for (const auto& [name, params] : config.vectors) {
    const std::string where = name.empty() ? "vectors" : "vectors." + name;
    if (!name.empty() && !ValidName(name)) {
      return Status::InvalidArgument(where + ": vector names are 1..255 letters, digits, '-', '_' or '.'");
    }
    if (params.size < 1 || params.size > index::kMaxDimension) {
      return Status::InvalidArgument(where + ".size: " + std::to_string(params.size) +
                                     " is out of range 1..65536");
    }
    if (params.hnsw) QUIVER_RETURN_IF_ERROR(ValidateHnsw(*params.hnsw, where + ".hnsw_config"));
    QUIVER_RETURN_IF_ERROR(ValidateQuantization(params.quantization, where + ".quantization_config"));
  }
  if (config.vectors.count(std::string(kDefaultVector)) && config.vectors.size() > 1) {
    return Status::InvalidArgument("vectors: the unnamed vector cannot be combined with named vectors");
  }
  for (const auto& [name, params] : config.sparse_vectors) {
    const std::string where = "sparse_vectors." + name;
    if (!ValidName(name)) {
      return Status::InvalidArgument(where + ": sparse vector names are 1..255 letters, digits, '-', '_' or '.'");
    }
    if (config.vectors.count(name)) {
      return Status::InvalidArgument(where + ": the name is already taken by a dense vector");
    }
  }
  return Status::OK();
}

CollectionCore::CollectionCore(std::string name, CollectionConfig config, HybridClock* clock, uint64_t replica)
    : name_(std::move(name)), config_(std::move(config)), clock_(clock), replica_(replica) {
  for (const auto& [vname, params] : config_.vectors) {
    spaces_.push_back(VectorSpace{vname, params, params.hnsw.value_or(config_.hnsw),
                                  params.quantization ? params.quantization : config_.quantization});
  }
  for (const auto& [vname, params] : config_.sparse_vectors) sparse_spaces_.push_back(SparseSpace{vname, params});
}

CollectionCore::~CollectionCore() { (void)Close(); }

std::unique_ptr<Segment> CollectionCore::NewWriteSegment() const {
  // Stored collections write into a flat segment (cheap to append, searched exactly) that the optimizer indexes
  // after sealing; in memory the write segment is indexed as points arrive.
  auto seg = Segment::Create(spaces_, sparse_spaces_,
                             stored() ? std::optional<IndexKind>(IndexKind::kFlat) : std::nullopt);
  std::unique_ptr<Segment> out = std::move(*seg);
#ifndef __EMSCRIPTEN__
  // Natively, reserved room costs address space only until rows land in it; in WebAssembly it would grow the
  // module's memory at once, so there the vectors grow as they come.
  if (stored()) out->ReserveRows(files_->options().segment_points);
#endif
  for (const auto& [field, type] : payload_fields_) (void)out->CreatePayloadIndex(field, type);
  return out;
}

Result<std::unique_ptr<CollectionCore>> CollectionCore::Create(std::string name, CollectionConfig config,
                                                               HybridClock* clock, uint64_t replica) {
  QUIVER_RETURN_IF_ERROR(ValidateConfig(config));
  std::unique_ptr<CollectionCore> core(new CollectionCore(std::move(name), std::move(config), clock, replica));
  QUIVER_RETURN_IF_ERROR(Segment::Create(core->spaces_, core->sparse_spaces_).status());
  core->write_ = core->NewWriteSegment();
  return core;
}

void CollectionCore::SetOpListener(std::function<Status(std::span<const Op>)> listener) {
  std::unique_lock lock(mu_);
  listener_ = std::move(listener);
}

Result<size_t> CollectionCore::FindSpace(std::string_view vector_name) const {
  for (size_t i = 0; i < spaces_.size(); ++i) {
    if (spaces_[i].name == vector_name) return i;
  }
  if (vector_name.empty()) {
    return Status::InvalidArgument("collection " + name_ + " has only named vectors; name one");
  }
  for (const SparseSpace& ss : sparse_spaces_) {
    if (ss.name == vector_name) {
      return Status::InvalidArgument("vector '" + ss.name + "' of collection " + name_ +
                                     " is a sparse vector; this operation takes a dense vector");
    }
  }
  return Status::InvalidArgument("collection " + name_ + " has no vector named '" + std::string(vector_name) +
                                 "'");
}

Result<size_t> CollectionCore::FindSparseSpace(std::string_view vector_name) const {
  for (size_t i = 0; i < sparse_spaces_.size(); ++i) {
    if (sparse_spaces_[i].name == vector_name) return i;
  }
  for (const VectorSpace& vs : spaces_) {
    if (vs.name == vector_name) {
      return Status::InvalidArgument(VectorLabel(vector_name) + " of collection " + name_ +
                                     " is dense; a sparse vector ({\"indices\", \"values\"}) is not its kind");
    }
  }
  return Status::InvalidArgument("collection " + name_ + " has no sparse vector named '" + std::string(vector_name) +
                                 "'");
}

Status CollectionCore::CheckVectorName(std::string_view vector_name) const {
  for (const SparseSpace& ss : sparse_spaces_) {
    if (ss.name == vector_name) return Status::OK();
  }
  return FindSpace(vector_name).status();
}

Status CollectionCore::CreatePayloadIndex(std::string_view field, std::string_view type) {
  QUIVER_ASSIGN_OR_RETURN(payload::FieldIndexType t, payload::ParseFieldIndexType(type));
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(WritableLocked());
  QUIVER_RETURN_IF_ERROR(write_->CreatePayloadIndex(field, t));
  for (Sealed& s : sealed_) QUIVER_RETURN_IF_ERROR(s.segment->CreatePayloadIndex(field, t));
  payload_fields_ = write_->payload_index().Fields();  // canonical names
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

Status CollectionCore::DeletePayloadIndex(std::string_view field) {
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(WritableLocked());
  QUIVER_RETURN_IF_ERROR(write_->DeletePayloadIndex(field));
  for (Sealed& s : sealed_) (void)s.segment->DeletePayloadIndex(field);
  payload_fields_ = write_->payload_index().Fields();
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

namespace {

void ApplyHnsw(const HnswUpdate& u, HnswConfig* h) {
  if (u.m) h->m = *u.m;
  if (u.ef_construct) h->ef_construct = *u.ef_construct;
  if (u.full_scan_threshold_kb) h->full_scan_threshold_kb = *u.full_scan_threshold_kb;
}

}  // namespace

Status CollectionCore::Update(const CollectionUpdate& update) {
  CollectionConfig next = config_;
  if (update.hnsw) ApplyHnsw(*update.hnsw, &next.hnsw);
  if (update.quantization) next.quantization = update.quantization->scalar;
  for (const auto& [vname, u] : update.vectors) {
    auto it = next.vectors.find(vname);
    if (it == next.vectors.end()) {
      return Status::NotFound("collection " + name_ + " has no " + VectorLabel(vname));
    }
    if (u.hnsw) {
      HnswConfig h = it->second.hnsw.value_or(next.hnsw);
      ApplyHnsw(*u.hnsw, &h);
      it->second.hnsw = h;
    }
    if (u.quantization) it->second.quantization = u.quantization->scalar;
  }
  QUIVER_RETURN_IF_ERROR(ValidateConfig(next));
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(WritableLocked());
  config_ = std::move(next);
  size_t i = 0;
  for (const auto& [vname, params] : config_.vectors) {
    VectorSpace& vs = spaces_[i++];
    vs.params = params;
    vs.hnsw = params.hnsw.value_or(config_.hnsw);
    vs.quantization = params.quantization ? params.quantization : config_.quantization;
  }
  write_->UpdateSpaces(spaces_);
  for (Sealed& s : sealed_) s.segment->UpdateSpaces(spaces_);
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

CollectionInfo CollectionCore::Info() const {
  std::shared_lock lock(mu_);
  CollectionInfo info;
  info.name = name_;
  info.config = config_;
  for (const Segment* seg : SegmentsLocked()) {
    info.points_count += seg->live_count();
    info.indexed_vectors_count += seg->indexed_vectors();
  }
  info.segments_count = sealed_.size() + 1;
  for (const auto& [field, type] : payload_fields_) {
    size_t points = 0;
    for (const Segment* seg : SegmentsLocked()) points += seg->payload_index().IndexedPoints(field);
    info.payload_schema.push_back(PayloadIndexInfo{field, std::string(payload::FieldIndexTypeName(type)), points});
  }
  return info;
}

}  // namespace quiver::db
