// The public Database and Collection classes: thin forwards to DatabaseCore and CollectionCore.
#include "db/collection_core.h"
#include "db/database_core.h"
#include "quiver/collection.h"
#include "quiver/database.h"

namespace quiver {

std::string_view DistanceName(Distance d) {
  switch (d) {
    case Distance::kCosine:
      return "Cosine";
    case Distance::kEuclid:
      return "Euclid";
    case Distance::kDot:
      return "Dot";
    case Distance::kManhattan:
      return "Manhattan";
  }
  return "Unknown";
}

Result<Distance> ParseDistance(std::string_view name) {
  for (Distance d : {Distance::kCosine, Distance::kEuclid, Distance::kDot, Distance::kManhattan}) {
    if (DistanceName(d) == name) return d;
  }
  return Status::InvalidArgument("distance '" + std::string(name) +
                                 "' is not one of Cosine, Euclid, Dot, Manhattan");
}

Collection::Collection(std::unique_ptr<db::CollectionCore> core) : core_(std::move(core)) {}
Collection::~Collection() = default;
const std::string& Collection::name() const { return core_->name(); }
CollectionInfo Collection::Info() const { return core_->Info(); }
Status Collection::Upsert(std::span<const PointInput> points) { return core_->Upsert(points); }
Status Collection::UpsertDense(std::span<const PointId> ids, std::string_view vector_name,
                               std::span<const float> vectors, std::span<const std::string> payloads) {
  return core_->UpsertDense(ids, vector_name, vectors, payloads);
}
Result<std::vector<Record>> Collection::Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                            const VectorSelector& with_vector) const {
  return core_->Get(ids, with_payload, with_vector);
}
Result<size_t> Collection::Delete(const PointsSelector& points) { return core_->Delete(points); }
Result<size_t> Collection::SetPayload(const PointsSelector& points, std::string_view payload_json) {
  return core_->SetPayload(points, payload_json);
}
Result<size_t> Collection::OverwritePayload(const PointsSelector& points, std::string_view payload_json) {
  return core_->OverwritePayload(points, payload_json);
}
Result<size_t> Collection::DeletePayloadKeys(const PointsSelector& points,
                                             const std::vector<std::string>& keys) {
  return core_->DeletePayloadKeys(points, keys);
}
Result<size_t> Collection::ClearPayload(const PointsSelector& points) { return core_->ClearPayload(points); }
Result<ScrollResult> Collection::Scroll(const ScrollRequest& request) const { return core_->Scroll(request); }
Result<size_t> Collection::Count(std::string_view filter_json) const { return core_->Count(filter_json); }
Result<std::vector<ScoredPoint>> Collection::Search(const SearchRequest& request) const {
  return core_->Search(request);
}
Result<std::vector<std::vector<ScoredPoint>>> Collection::SearchBatch(
    std::span<const SearchRequest> requests) const {
  return core_->SearchBatch(requests);
}
Result<std::vector<ScoredPoint>> Collection::Recommend(const RecommendRequest& request) const {
  return core_->Recommend(request);
}
Status Collection::CreatePayloadIndex(std::string_view field, std::string_view type) {
  return core_->CreatePayloadIndex(field, type);
}
Status Collection::DeletePayloadIndex(std::string_view field) { return core_->DeletePayloadIndex(field); }
Status Collection::Optimize() { return core_->Optimize(); }
Result<std::string> Collection::CreateSnapshot() const { return core_->CreateSnapshot(); }
CollectionStats Collection::Stats() const { return core_->Stats(); }
Result<std::vector<std::string>> Collection::Verify() const { return core_->Verify(); }

Database::Database(std::unique_ptr<db::DatabaseCore> core) : core_(std::move(core)) {}
Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  QUIVER_ASSIGN_OR_RETURN(auto core, db::DatabaseCore::Open(options));
  return std::unique_ptr<Database>(new Database(std::move(core)));
}

uint64_t Database::replica_id() const { return core_->replica_id(); }
const std::string& Database::path() const { return core_->path(); }
Status Database::Flush() { return core_->Flush(); }
Status Database::Close() { return core_->Close(); }
Status Database::RestoreSnapshot(std::string_view name, std::string_view snapshot) {
  return core_->RestoreSnapshot(name, snapshot);
}
Status Database::CreateCollection(std::string_view name, const CollectionConfig& config) {
  return core_->CreateCollection(name, config);
}
Status Database::DeleteCollection(std::string_view name) { return core_->DeleteCollection(name); }
std::vector<std::string> Database::ListCollections() const { return core_->ListCollections(); }
bool Database::CollectionExists(std::string_view name) const { return core_->CollectionExists(name); }
Result<std::shared_ptr<Collection>> Database::GetCollection(std::string_view name_or_alias) const {
  return core_->GetCollection(name_or_alias);
}
Status Database::CreateAlias(std::string_view alias, std::string_view collection) {
  AliasAction a{AliasAction::Kind::kCreate, std::string(alias), std::string(collection), {}};
  return core_->UpdateAliases({&a, 1});
}
Status Database::DeleteAlias(std::string_view alias) {
  AliasAction a{AliasAction::Kind::kDelete, std::string(alias), {}, {}};
  return core_->UpdateAliases({&a, 1});
}
Status Database::RenameAlias(std::string_view old_alias, std::string_view new_alias) {
  AliasAction a{AliasAction::Kind::kRename, std::string(old_alias), {}, std::string(new_alias)};
  return core_->UpdateAliases({&a, 1});
}
Status Database::UpdateAliases(std::span<const AliasAction> actions) { return core_->UpdateAliases(actions); }
std::vector<std::pair<std::string, std::string>> Database::ListAliases() const {
  return core_->ListAliases();
}
std::vector<std::pair<std::string, Status>> Database::UnavailableCollections() const {
  return core_->UnavailableCollections();
}
Result<RepairReport> Database::Repair(std::string_view collection) { return core_->Repair(collection); }

}  // namespace quiver
