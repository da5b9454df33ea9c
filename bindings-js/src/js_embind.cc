// The Embind surface of the module: JsDatabase and JsCollection (js_api.h) under the names the TypeScript
// wrapper uses. Every method returns a value or a status code; none throws.
#include <emscripten/bind.h>

#include "js_api.h"

using namespace emscripten;
using quiver::js::JsCollection;
using quiver::js::JsDatabase;

EMSCRIPTEN_BINDINGS(quiver) {
  class_<JsCollection>("NativeCollection")
      .function("code", +[](JsCollection& o) { return o.code(); })
      .function("message", +[](JsCollection& o) { return std::string(o.message()); })
      .function("floats", +[](JsCollection& o) { return o.floats(); })
      .function("bytes", +[](JsCollection& o) { return o.bytes(); })
      .function("bytesSize", +[](JsCollection& o) { return o.bytes_size(); })
      .function("releaseBytes", +[](JsCollection& o) { o.ReleaseBytes(); })
      .function("info", &JsCollection::Info)
      .function("stats", &JsCollection::Stats)
      .function("upsert", &JsCollection::Upsert)
      .function("upsertDense", &JsCollection::UpsertDense)
      .function("get", &JsCollection::Get)
      .function("deletePoints", &JsCollection::Delete)
      .function("setPayload", &JsCollection::SetPayload)
      .function("overwritePayload", &JsCollection::OverwritePayload)
      .function("deletePayloadKeys", &JsCollection::DeletePayloadKeys)
      .function("clearPayload", &JsCollection::ClearPayload)
      .function("search", &JsCollection::Search)
      .function("searchVector", &JsCollection::SearchVector)
      .function("searchBatch", &JsCollection::SearchBatch)
      .function("recommend", &JsCollection::Recommend)
      .function("scroll", &JsCollection::Scroll)
      .function("count", &JsCollection::Count)
      .function("createPayloadIndex", &JsCollection::CreatePayloadIndex)
      .function("deletePayloadIndex", &JsCollection::DeletePayloadIndex)
      .function("optimize", &JsCollection::Optimize)
      .function("createSnapshot", &JsCollection::CreateSnapshot)
      .function("verify", &JsCollection::Verify);

  class_<JsDatabase>("NativeDatabase")
      .constructor<>()
      .function("code", +[](JsDatabase& o) { return o.code(); })
      .function("message", +[](JsDatabase& o) { return std::string(o.message()); })
      .function("open", &JsDatabase::Open)
      .function("close", &JsDatabase::Close)
      .function("flush", &JsDatabase::Flush)
      .function("isOpen", &JsDatabase::is_open)
      .function("replicaId", &JsDatabase::ReplicaId)
      .function("createCollection", &JsDatabase::CreateCollection)
      .function("deleteCollection", &JsDatabase::DeleteCollection)
      .function("listCollections", &JsDatabase::ListCollections)
      .function("collectionExists", &JsDatabase::CollectionExists)
      .function("getCollection", &JsDatabase::GetCollection, allow_raw_pointers())
      .function("restoreSnapshot", &JsDatabase::RestoreSnapshot)
      .function("createAlias", &JsDatabase::CreateAlias)
      .function("deleteAlias", &JsDatabase::DeleteAlias)
      .function("listAliases", &JsDatabase::ListAliases)
      .function("repair", &JsDatabase::Repair)
      .function("floats", +[](JsDatabase& o) { return o.floats(); })
      .function("query", &JsDatabase::Query);

  function("simdIsa", &quiver::js::SimdIsa);
  // The engine's status codes by number, as the names the TypeScript wrapper's ErrorCodes lists.
  function("statusCodeSymbols", +[]() {
    std::string out = "[";
    for (int c = 0; c <= static_cast<int>(quiver::StatusCode::kInternal); ++c) {
      if (c) out += ',';
      out += '"' + std::string(quiver::StatusCodeSymbol(static_cast<quiver::StatusCode>(c))) + '"';
    }
    return out + "]";
  });
}
