#include "db/database_core.h"

#include <algorithm>
#include <random>

#include "db/collection_core.h"

namespace quiver::db {

Status ValidateCollectionName(std::string_view name, std::string_view what) {
  const bool ok = !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
  if (ok && name != "." && name != "..") return Status::OK();
  return Status::InvalidArgument(std::string(what) + " '" + std::string(name.substr(0, 255)) +
                                 "' is not valid: use 1..255 letters, digits, '-', '_' or '.'");
}

namespace {
uint64_t RandomReplicaId() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t{rd()} << 32) ^ rd();
  return id;
}
}  // namespace

DatabaseCore::DatabaseCore(const DatabaseOptions& options)
    : replica_id_(options.replica_id ? options.replica_id : RandomReplicaId()),
      clock_(options.wall_clock_ms) {}

Status DatabaseCore::CreateCollection(std::string_view name, const CollectionConfig& config) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(name, "collection name"));
  QUIVER_ASSIGN_OR_RETURN(auto core, CollectionCore::Create(std::string(name), config, &clock_, replica_id_));
  std::lock_guard<std::mutex> lock(mu_);
  if (collections_.count(name) || aliases_.count(name)) {
    return Status::AlreadyExists("collection or alias '" + std::string(name) + "' already exists");
  }
  collections_.emplace(std::string(name), std::shared_ptr<Collection>(new Collection(std::move(core))));
  return Status::OK();
}

Status DatabaseCore::DeleteCollection(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(name);
  if (it == collections_.end())
    return Status::NotFound("collection '" + std::string(name) + "' does not exist");
  for (auto a = aliases_.begin(); a != aliases_.end();) {
    a = a->second == name ? aliases_.erase(a) : std::next(a);
  }
  collections_.erase(it);
  return Status::OK();
}

std::vector<std::string> DatabaseCore::ListCollections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, c] : collections_) out.push_back(name);
  return out;
}

bool DatabaseCore::CollectionExists(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return collections_.count(name) > 0;
}

Result<std::shared_ptr<Collection>> DatabaseCore::GetCollection(std::string_view name_or_alias) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = collections_.find(name_or_alias);
  if (it == collections_.end()) {
    auto a = aliases_.find(name_or_alias);
    if (a != aliases_.end()) it = collections_.find(a->second);
  }
  if (it == collections_.end()) {
    return Status::NotFound("collection '" + std::string(name_or_alias) + "' does not exist");
  }
  return it->second;
}

Status DatabaseCore::ApplyAliasAction(const AliasAction& a,
                                      std::map<std::string, std::string, std::less<>>* aliases) const {
  switch (a.kind) {
    case AliasAction::Kind::kCreate: {
      QUIVER_RETURN_IF_ERROR(ValidateCollectionName(a.alias, "alias"));
      if (!collections_.count(a.collection)) {
        return Status::NotFound("collection '" + a.collection + "' does not exist");
      }
      if (collections_.count(a.alias)) {
        return Status::AlreadyExists("'" + a.alias + "' is a collection name and cannot be an alias");
      }
      (*aliases)[a.alias] = a.collection;  // creating an existing alias re-points it, as in Qdrant
      return Status::OK();
    }
    case AliasAction::Kind::kDelete:
      if (aliases->erase(a.alias) == 0) return Status::NotFound("alias '" + a.alias + "' does not exist");
      return Status::OK();
    case AliasAction::Kind::kRename: {
      auto it = aliases->find(a.alias);
      if (it == aliases->end()) return Status::NotFound("alias '" + a.alias + "' does not exist");
      QUIVER_RETURN_IF_ERROR(ValidateCollectionName(a.new_alias, "alias"));
      if (collections_.count(a.new_alias)) {
        return Status::AlreadyExists("'" + a.new_alias + "' is a collection name and cannot be an alias");
      }
      std::string target = it->second;
      aliases->erase(it);
      (*aliases)[a.new_alias] = target;
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown alias action");
}

Status DatabaseCore::UpdateAliases(std::span<const AliasAction> actions) {
  std::lock_guard<std::mutex> lock(mu_);
  auto next = aliases_;
  for (size_t i = 0; i < actions.size(); ++i) {
    Status s = ApplyAliasAction(actions[i], &next);
    if (!s.ok()) return s.WithContext("actions[" + std::to_string(i) + "]");
  }
  aliases_ = std::move(next);
  return Status::OK();
}

std::vector<std::pair<std::string, std::string>> DatabaseCore::ListAliases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {aliases_.begin(), aliases_.end()};
}

}  // namespace quiver::db
