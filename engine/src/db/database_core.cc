#include "db/database_core.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>

#include "db/collection_core.h"

namespace quiver::db {

Status ValidateCollectionName(std::string_view name, std::string_view what) {
  const bool ok = !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
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

// Collection's constructor is private to the public API; the database makes them.
class CollectionFactory {
 public:
  static std::shared_ptr<Collection> Make(std::unique_ptr<CollectionCore> core) {
    return std::shared_ptr<Collection>(new Collection(std::move(core)));
  }
};

DatabaseCore::DatabaseCore(const DatabaseOptions& options)
    : options_(options),
      replica_id_(options.replica_id ? options.replica_id : RandomReplicaId()),
      clock_(options.wall_clock_ms) {}

DatabaseCore::~DatabaseCore() { (void)Close(); }

Result<std::unique_ptr<DatabaseCore>> DatabaseCore::Open(const DatabaseOptions& options) {
  if (options.path.empty()) return std::unique_ptr<DatabaseCore>(new DatabaseCore(options));
  QUIVER_ASSIGN_OR_RETURN(auto storage, storage::OpenPosixStorage(options.path));
  std::unique_ptr<DatabaseCore> db(new DatabaseCore(options));
  db->owned_storage_ = std::move(storage);
  db->storage_ = db->owned_storage_.get();
  QUIVER_RETURN_IF_ERROR(db->OpenFolder());
  return db;
}

Result<std::unique_ptr<DatabaseCore>> DatabaseCore::OpenStorage(const DatabaseOptions& options,
                                                                storage::Storage* storage) {
  std::unique_ptr<DatabaseCore> db(new DatabaseCore(options));
  db->storage_ = storage;
  QUIVER_RETURN_IF_ERROR(db->OpenFolder());
  return db;
}

Status DatabaseCore::OpenFolder() {
  storage::Storage& st = *storage_;
  const std::string where = options_.path.empty() ? "the database" : options_.path;
  if (options_.segment_points == 0) return Status::InvalidArgument("segment_points must be at least 1");
  if (!options_.read_only) {
    QUIVER_ASSIGN_OR_RETURN(lock_, st.Lock(kLockFileName));
  }
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  uint64_t max_number = 0;
  bool has_data = false;
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    if (p.kind != ParsedFileName::Kind::kUnknown && p.kind != ParsedFileName::Kind::kTemp) {
      has_data = true;
      max_number = std::max(max_number, p.number);
    }
  }
  QUIVER_ASSIGN_OR_RETURN(bool has_current, st.Exists(kCurrentFileName));
  // mu_ before manifest_mu_, as everywhere else.
  std::unique_lock<std::mutex> lock(mu_);
  std::unique_lock<std::mutex> manifest_lock(manifest_mu_);
  if (!has_current) {
    if (has_data) {
      return Status::Corruption(where + ": CURRENT is missing but database files are present");
    }
    if (options_.read_only) return Status::NotFound("no database in " + where);
    manifest_.replica_id = replica_id_;
    manifest_.next_file = 1;
    QUIVER_RETURN_IF_ERROR(WriteManifestLocked());
    opened_ = true;
    return Status::OK();
  }

  QUIVER_ASSIGN_OR_RETURN(std::string current, st.ReadFile(kCurrentFileName));
  if (current.empty() || current.back() != '\n') return Status::Corruption("CURRENT: expected a manifest name and a newline");
  current.pop_back();
  ParsedFileName p = ParseFileName(current);
  if (p.kind != ParsedFileName::Kind::kManifest) {
    return Status::Corruption("CURRENT: '" + current.substr(0, 64) + "' does not name a manifest");
  }
  auto read = st.ReadFile(current);
  if (!read.ok()) {
    if (read.status().IsNotFound()) return Status::Corruption("CURRENT names " + current + ", which is missing");
    return read.status();
  }
  std::string bytes = std::move(*read);
  QUIVER_ASSIGN_OR_RETURN(manifest_, DecodeManifest({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, current));
  current_manifest_ = p.number;
  if (options_.replica_id != 0 && options_.replica_id != manifest_.replica_id) {
    return Status::InvalidArgument(where + " belongs to replica " + std::to_string(manifest_.replica_id) +
                                   ", not " + std::to_string(options_.replica_id));
  }
  replica_id_ = manifest_.replica_id;
  clock_.Observe(manifest_.clock);
  // Files made after the last manifest (log files begun by rotation) keep their numbers.
  manifest_.next_file = std::max(manifest_.next_file, max_number + 1);

  for (const CollectionEntry& entry : manifest_.collections) {
    manifest_lock.unlock();  // opening a collection allocates file numbers
    auto core = CollectionCore::Open(entry, &clock_, replica_id_, this);
    manifest_lock.lock();
    if (!core.ok()) {
      // Damage stays with its collection: the others open, this one answers with the error until it is
      // repaired (RepairCollection) or deleted. Anything else (an I/O error, a bad option) fails the open.
      if (core.status().code() != StatusCode::kCorruption) return core.status().WithContext("collection " + entry.name);
      unavailable_.emplace(entry.name, Unavailable{entry.id, core.status()});
      continue;
    }
    collections_.emplace(entry.name, CollectionFactory::Make(std::move(*core)));
  }
  for (const auto& [alias, target] : manifest_.aliases) aliases_.emplace(alias, target);
  if (!options_.read_only) QUIVER_RETURN_IF_ERROR(CollectGarbage());
  opened_ = true;
  // Merges a stopped process left undone start only now: the garbage collection above removes files no manifest
  // names, which a merge running meanwhile would be writing. They start without the database's locks: a merge
  // takes its collection's lock and then manifest_mu_ (CommitEntry, NewFileNumber).
  std::vector<std::shared_ptr<Collection>> opened;
  for (const auto& [name, collection] : collections_) opened.push_back(collection);
  manifest_lock.unlock();
  lock.unlock();
  for (const auto& collection : opened) collection->core().ResumeOptimize();
  return Status::OK();
}

Status DatabaseCore::CollectGarbage() {
  storage::Storage& st = *storage_;
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  std::map<uint32_t, const CollectionEntry*> entries;
  for (const CollectionEntry& e : manifest_.collections) entries[e.id] = &e;
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    bool keep = true;
    switch (p.kind) {
      case ParsedFileName::Kind::kUnknown: break;
      case ParsedFileName::Kind::kTemp: keep = false; break;
      case ParsedFileName::Kind::kManifest: keep = p.number == current_manifest_; break;
      case ParsedFileName::Kind::kWal: {
        auto it = entries.find(p.collection);
        keep = it != entries.end() && p.number >= it->second->wal_start;
        break;
      }
      case ParsedFileName::Kind::kSegment:
      case ParsedFileName::Kind::kDeletions: {
        auto it = entries.find(p.collection);
        keep = false;
        if (it == entries.end()) break;
        for (const SegmentEntry& s : it->second->segments) {
          keep |= p.kind == ParsedFileName::Kind::kSegment ? s.file == p.number : s.deletions == p.number;
        }
        break;
      }
    }
    if (!keep) QUIVER_RETURN_IF_ERROR(st.Remove(name));
  }
  return st.SyncDir();
}

uint64_t DatabaseCore::NewFileNumber() {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  return manifest_.next_file++;
}

Status DatabaseCore::WriteManifestLocked() {
  storage::Storage& st = *storage_;
  manifest_.clock = clock_.last();
  const uint64_t number = manifest_.next_file++;
  const std::string name = ManifestFileName(number);
  {
    QUIVER_ASSIGN_OR_RETURN(auto file, st.Create(name));
    QUIVER_RETURN_IF_ERROR(file->Append(EncodeManifest(manifest_)));
    QUIVER_RETURN_IF_ERROR(file->Sync());
    QUIVER_RETURN_IF_ERROR(file->Close());
  }
  QUIVER_RETURN_IF_ERROR(st.WriteFileAtomic(kCurrentFileName, name + "\n"));
  if (current_manifest_ != 0) (void)st.Remove(ManifestFileName(current_manifest_));
  current_manifest_ = number;
  return Status::OK();
}

Status DatabaseCore::CommitEntry(const CollectionEntry& entry) {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  const std::vector<CollectionEntry> before = manifest_.collections;
  auto it = std::find_if(manifest_.collections.begin(), manifest_.collections.end(),
                         [&](const CollectionEntry& e) { return e.id == entry.id; });
  if (it == manifest_.collections.end()) {
    manifest_.collections.push_back(entry);
  } else {
    *it = entry;
  }
  Status s = WriteManifestLocked();
  // A manifest that was not written changes nothing: the next one must not carry this entry in unasked.
  if (!s.ok()) manifest_.collections = before;
  return s;
}

Result<CollectionEntry> DatabaseCore::CommittedEntry(uint32_t id) const {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  for (const CollectionEntry& e : manifest_.collections) {
    if (e.id == id) return e;
  }
  return Status::NotFound("collection " + std::to_string(id) + " is in no manifest");
}

bool DatabaseCore::Schedule(std::function<void()> work) {
  return options_.executor != nullptr && options_.executor->Submit(std::move(work));
}

Status DatabaseCore::CheckOpen() const {
  if (closed_) return Status::FailedPrecondition("the database is closed");
  return Status::OK();
}

Result<std::shared_ptr<Collection>> DatabaseCore::NewCollection(std::string_view name, const CollectionConfig& config) {
  if (!stored()) {
    QUIVER_ASSIGN_OR_RETURN(auto core, CollectionCore::Create(std::string(name), config, &clock_, replica_id_));
    return CollectionFactory::Make(std::move(core));
  }
  if (options_.read_only) return Status::FailedPrecondition("the database is open read-only");
  QUIVER_RETURN_IF_ERROR(ValidateConfig(config));
  CollectionEntry entry;
  entry.name = std::string(name);
  entry.config = config;
  {
    std::lock_guard<std::mutex> lock(manifest_mu_);
    entry.id = manifest_.next_collection++;
    entry.wal_start = manifest_.next_file;
  }
  QUIVER_ASSIGN_OR_RETURN(auto core, CollectionCore::Open(entry, &clock_, replica_id_, this));
  QUIVER_RETURN_IF_ERROR(CommitEntry(core->Entry()));
  return CollectionFactory::Make(std::move(core));
}

Status DatabaseCore::CreateCollection(std::string_view name, const CollectionConfig& config) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(name, "collection name"));
  QUIVER_RETURN_IF_ERROR(ValidateConfig(config));
  std::lock_guard<std::mutex> lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckOpen());
  if (collections_.count(name) || aliases_.count(name) || unavailable_.count(name)) {
    return Status::AlreadyExists("collection or alias '" + std::string(name) + "' already exists");
  }
  QUIVER_ASSIGN_OR_RETURN(auto collection, NewCollection(name, config));
  collections_.emplace(std::string(name), std::move(collection));
  return Status::OK();
}

Status DatabaseCore::DeleteCollection(std::string_view name) {
  std::shared_ptr<Collection> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckOpen());
    auto it = collections_.find(name);
    if (auto u = unavailable_.find(name); u != unavailable_.end() && it == collections_.end()) {
      if (options_.read_only) return Status::FailedPrecondition("the database is open read-only");
      return DropUnavailableLocked(u);
    }
    if (it == collections_.end()) return Status::NotFound("collection '" + std::string(name) + "' does not exist");
    if (stored() && options_.read_only) return Status::FailedPrecondition("the database is open read-only");
    auto aliases = aliases_;
    for (auto a = aliases.begin(); a != aliases.end();) a = a->second == name ? aliases.erase(a) : std::next(a);
    if (stored()) {
      std::lock_guard<std::mutex> mlock(manifest_mu_);
      const uint32_t id = it->second->core().id();
      const Manifest before = manifest_;
      std::erase_if(manifest_.collections, [&](const CollectionEntry& e) { return e.id == id; });
      manifest_.aliases = {aliases.begin(), aliases.end()};
      if (Status s = WriteManifestLocked(); !s.ok()) {
        // The collection stays, and the next manifest must not drop it unasked.
        const uint64_t next_file = manifest_.next_file;
        manifest_ = before;
        manifest_.next_file = next_file;
        return s.WithContext("deleting collection " + std::string(name));
      }
    }
    aliases_ = std::move(aliases);
    gone = it->second;
    collections_.erase(it);
  }
  // The deletion is committed; files left behind by a failure here are removed at the next open.
  (void)gone->core().DestroyFiles();
  return Status::OK();
}

std::vector<std::string> DatabaseCore::ListCollections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, c] : collections_) out.push_back(name);
  for (const auto& [name, u] : unavailable_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

bool DatabaseCore::CollectionExists(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return collections_.count(name) > 0 || unavailable_.count(name) > 0;
}

std::vector<std::pair<std::string, Status>> DatabaseCore::UnavailableCollections() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, Status>> out;
  for (const auto& [name, u] : unavailable_) out.emplace_back(name, u.why);
  return out;
}

Result<RepairReport> DatabaseCore::Repair(std::string_view name) {
  std::unique_lock<std::mutex> lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckOpen());
  if (!stored()) return Status::FailedPrecondition("repair works on a stored database; this one is in memory");
  if (options_.read_only) return Status::FailedPrecondition("the database is open read-only");
  RepairReport report;
  report.collection = std::string(name);
  if (auto it = collections_.find(name); it != collections_.end()) {
    // An open collection: repaired only if its files are damaged.
    QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> problems, it->second->core().Verify());
    if (problems.empty()) {
      QUIVER_ASSIGN_OR_RETURN(size_t live, it->second->core().Count(static_cast<const payload::Filter*>(nullptr)));
      report.points = live;
      return report;
    }
    QUIVER_RETURN_IF_ERROR(it->second->core().Close());
    Status why = Status::Corruption(problems.front());
    unavailable_.emplace(std::string(name), Unavailable{it->second->core().id(), why});
    collections_.erase(it);
  }
  auto u = unavailable_.find(name);
  if (u == unavailable_.end()) return Status::NotFound("collection '" + std::string(name) + "' does not exist");
  CollectionEntry entry;
  {
    std::lock_guard<std::mutex> mlock(manifest_mu_);
    auto e = std::find_if(manifest_.collections.begin(), manifest_.collections.end(),
                          [&](const CollectionEntry& c) { return c.id == u->second.id; });
    if (e == manifest_.collections.end()) return Status::Internal("repair: collection not in the manifest");
    entry = *e;
  }
  QUIVER_ASSIGN_OR_RETURN(CollectionEntry repaired,
                          CollectionCore::Salvage(entry, &clock_, replica_id_, this, &report));
  QUIVER_RETURN_IF_ERROR(CommitEntry(repaired));
  // Segment and deletion files of the collection that the repaired entry no longer names.
  storage::Storage& st = *storage_;
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  for (const std::string& file : names) {
    ParsedFileName p = ParseFileName(file);
    if (p.collection != repaired.id) continue;
    if (p.kind != ParsedFileName::Kind::kSegment && p.kind != ParsedFileName::Kind::kDeletions) continue;
    bool named = false;
    for (const SegmentEntry& se : repaired.segments) {
      named |= p.kind == ParsedFileName::Kind::kSegment ? se.file == p.number : se.deletions == p.number;
    }
    if (!named) QUIVER_RETURN_IF_ERROR(st.Remove(file));
  }
  QUIVER_RETURN_IF_ERROR(st.SyncDir());
  auto core = CollectionCore::Open(repaired, &clock_, replica_id_, this);
  if (!core.ok()) {
    u->second.why = core.status();
    return core.status().WithContext("repair of collection " + std::string(name));
  }
  auto collection = CollectionFactory::Make(std::move(*core));
  QUIVER_ASSIGN_OR_RETURN(size_t live, collection->core().Count(static_cast<const payload::Filter*>(nullptr)));
  report.points = live;
  unavailable_.erase(u);
  collections_.emplace(std::string(name), collection);
  lock.unlock();  // merges take the collection's lock, then manifest_mu_ (as after OpenFolder)
  collection->core().ResumeOptimize();
  return report;
}

Status DatabaseCore::UnavailableError(std::string_view name, const Unavailable& u) {
  return Status(u.why.code(), "collection '" + std::string(name) + "' is unavailable: " + std::string(u.why.message()) +
                                  " (repair rebuilds it from what is intact; the other collections work)");
}

Status DatabaseCore::DropUnavailableLocked(std::map<std::string, Unavailable, std::less<>>::iterator u) {
  const uint32_t id = u->second.id;
  auto aliases = aliases_;
  for (auto a = aliases.begin(); a != aliases.end();) a = a->second == u->first ? aliases.erase(a) : std::next(a);
  {
    std::lock_guard<std::mutex> mlock(manifest_mu_);
    std::erase_if(manifest_.collections, [&](const CollectionEntry& e) { return e.id == id; });
    manifest_.aliases = {aliases.begin(), aliases.end()};
    QUIVER_RETURN_IF_ERROR(WriteManifestLocked());
  }
  aliases_ = std::move(aliases);
  unavailable_.erase(u);
  // Its files are named by no manifest now.
  storage::Storage& st = *storage_;
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    const bool own = p.kind == ParsedFileName::Kind::kWal || p.kind == ParsedFileName::Kind::kSegment ||
                     p.kind == ParsedFileName::Kind::kDeletions;
    if (own && p.collection == id) QUIVER_RETURN_IF_ERROR(st.Remove(name));
  }
  return st.SyncDir();
}

Result<std::shared_ptr<Collection>> DatabaseCore::GetCollection(std::string_view name_or_alias) const {
  std::lock_guard<std::mutex> lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckOpen());
  auto it = collections_.find(name_or_alias);
  if (it == collections_.end()) {
    auto a = aliases_.find(name_or_alias);
    if (a != aliases_.end()) it = collections_.find(a->second);
  }
  if (it == collections_.end()) {
    auto u = unavailable_.find(name_or_alias);
    if (auto a = aliases_.find(name_or_alias); u == unavailable_.end() && a != aliases_.end()) {
      u = unavailable_.find(a->second);
    }
    if (u != unavailable_.end()) return UnavailableError(u->first, u->second);
    return Status::NotFound("collection '" + std::string(name_or_alias) + "' does not exist");
  }
  return it->second;
}

Status DatabaseCore::ApplyAliasAction(const AliasAction& a,
                                      std::map<std::string, std::string, std::less<>>* aliases) const {
  switch (a.kind) {
    case AliasAction::Kind::kCreate: {
      QUIVER_RETURN_IF_ERROR(ValidateCollectionName(a.alias, "alias"));
      if (!collections_.count(a.collection) && !unavailable_.count(a.collection)) {
        return Status::NotFound("collection '" + a.collection + "' does not exist");
      }
      if (collections_.count(a.alias) || unavailable_.count(a.alias)) {
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
      if (collections_.count(a.new_alias) || unavailable_.count(a.new_alias)) {
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
  QUIVER_RETURN_IF_ERROR(CheckOpen());
  if (stored() && options_.read_only) return Status::FailedPrecondition("the database is open read-only");
  auto next = aliases_;
  for (size_t i = 0; i < actions.size(); ++i) {
    Status s = ApplyAliasAction(actions[i], &next);
    if (!s.ok()) return s.WithContext("actions[" + std::to_string(i) + "]");
  }
  if (stored()) {
    std::lock_guard<std::mutex> mlock(manifest_mu_);
    auto old = std::move(manifest_.aliases);
    manifest_.aliases = {next.begin(), next.end()};
    if (Status s = WriteManifestLocked(); !s.ok()) {
      manifest_.aliases = std::move(old);  // the next manifest must not carry the change unasked
      return s;
    }
  }
  aliases_ = std::move(next);
  return Status::OK();
}

std::vector<std::pair<std::string, std::string>> DatabaseCore::ListAliases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {aliases_.begin(), aliases_.end()};
}

Status DatabaseCore::RestoreSnapshot(std::string_view name, std::string_view snapshot) {
  QUIVER_RETURN_IF_ERROR(ValidateCollectionName(name, "collection name"));
  QUIVER_ASSIGN_OR_RETURN(SnapshotContents contents,
                          DecodeSnapshot({reinterpret_cast<const uint8_t*>(snapshot.data()), snapshot.size()},
                                         "snapshot"));
  std::shared_ptr<Collection> collection;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckOpen());
    if (collections_.count(name) || aliases_.count(name) || unavailable_.count(name)) {
      return Status::AlreadyExists("collection or alias '" + std::string(name) + "' already exists");
    }
    QUIVER_ASSIGN_OR_RETURN(collection, NewCollection(name, contents.config));
    collections_.emplace(std::string(name), collection);
  }
  Status s;
  for (const auto& [field, type] : contents.payload_indexes) {
    s = collection->core().CreatePayloadIndex(field, type);
    if (s.IsInvalidArgument()) s = Status::Corruption("snapshot: payload index: " + std::string(s.message()));
    if (!s.ok()) break;
  }
  if (s.ok()) s = collection->core().LoadSnapshotPoints(std::move(contents.points));
  // A snapshot that cannot be restored whole leaves no collection behind.
  if (!s.ok()) (void)DeleteCollection(name);
  return s;
}

std::optional<boost::json::value> DatabaseCore::SyncMeta(std::string_view key) const {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  auto it = manifest_.sync.find(key);
  if (it == manifest_.sync.end()) return std::nullopt;
  return it->value();
}

boost::json::object DatabaseCore::SyncMetaWithPrefix(std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  boost::json::object out;
  for (const auto& kv : manifest_.sync) {
    if (kv.key().substr(0, prefix.size()) == prefix) out[kv.key()] = kv.value();
  }
  return out;
}

Status DatabaseCore::SetSyncMeta(
    const std::vector<std::pair<std::string, std::optional<boost::json::value>>>& changes) {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  if (stored() && options_.read_only) return Status::FailedPrecondition("the database is open read-only");
  boost::json::object next = manifest_.sync;
  for (const auto& [key, value] : changes) {
    if (value) {
      next[key] = *value;
    } else {
      next.erase(key);
    }
  }
  std::swap(manifest_.sync, next);
  if (!stored()) return Status::OK();
  Status s = WriteManifestLocked();
  if (!s.ok()) std::swap(manifest_.sync, next);
  return s;
}

Status DatabaseCore::Flush() {
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckOpen());
    for (const auto& [name, c] : collections_) all.push_back(c);
  }
  for (const auto& c : all) QUIVER_RETURN_IF_ERROR(c->core().Flush());
  return Status::OK();
}

Status DatabaseCore::Close() {
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::OK();
    closed_ = true;
    all = collections_;
  }
  Status result;
  for (const auto& [name, c] : all) {
    Status s = c->core().Close();
    if (result.ok() && !s.ok()) result = s;
  }
  if (stored() && opened_ && !options_.read_only && result.ok()) {
    std::lock_guard<std::mutex> lock(manifest_mu_);
    result = WriteManifestLocked();  // records the clock
  }
  lock_.reset();
  return result;
}

}  // namespace quiver::db
