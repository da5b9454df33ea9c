/*
 * quiver.h: the C API of Quiver, an embedded vector database.
 *
 * Conventions (SQLite and DuckDB are the models):
 * - Opaque handles: qv_options, qv_database, qv_collection, qv_result. Every handle is created by a qv_ function
 *   and released by its destroy/free function; every destroy/free function accepts NULL and does nothing.
 * - Every fallible function returns an int status code (QV_OK is 0). New codes may be added in later versions;
 *   treat an unknown non-zero code as a failure. A failed call on a database or collection handle stores a
 *   message on that handle (qv_db_errmsg, qv_collection_errmsg) that names the input and what is wrong with it.
 *   A failed call leaves the output arguments untouched except that handle/string outputs are set to NULL.
 * - Strings passed in are NUL-terminated UTF-8 and are only read during the call. Strings returned through a
 *   `char** out` are allocated by Quiver and owned by the caller: release them with qv_free. Pointers returned by
 *   value (`const char*`, `const float*`) belong to the handle they came from and stay valid until that handle is
 *   freed (for error messages: until the next call on that handle).
 * - No C++ exception ever crosses this API; running out of memory is reported as QV_NO_MEMORY.
 * - JSON bodies are Qdrant's request and response bodies (https://api.qdrant.tech): the *_json functions take and
 *   return exactly those shapes. Filters are Qdrant's filter JSON ({"must": [...], ...}).
 * - Point ids: the typed functions use unsigned 64-bit integers; UUID ids are available through the JSON
 *   functions (and are reported by qv_result_id_str).
 *
 * Thread safety: all functions may be called from any thread, and one database or collection handle may be used
 * by several threads at once (a qv_sync handle is the exception: see "Sync"). The error message of a handle belongs to the most recent failed call on that handle;
 * threads that want their own messages use their own collection handles (qv_db_collection is cheap). A qv_result
 * is a plain value: use it from one thread at a time.
 */
#ifndef QUIVER_C_API_H_
#define QUIVER_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define QV_API __attribute__((visibility("default")))
#else
#define QV_API
#endif

/* ---- Versions -------------------------------------------------------------------------------------------- */

#define QUIVER_VERSION_MAJOR 0
#define QUIVER_VERSION_MINOR 1
#define QUIVER_VERSION_PATCH 0
#define QUIVER_VERSION "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for comparisons in the preprocessor. */
#define QUIVER_VERSION_NUMBER (QUIVER_VERSION_MAJOR * 10000 + QUIVER_VERSION_MINOR * 100 + QUIVER_VERSION_PATCH)

/* The version of the library actually linked, "0.1.0": may differ from QUIVER_VERSION when linked dynamically. */
QV_API const char* qv_version(void);
/* The same as a number (QUIVER_VERSION_NUMBER of the linked library). */
QV_API int qv_version_number(void);

/* ---- Status codes ---------------------------------------------------------------------------------------- */
/* Stable numbers; new codes may be added. */

#define QV_OK 0
#define QV_INVALID_ARGUMENT 1     /* the caller's input is malformed or out of range (bad JSON, wrong dimension) */
#define QV_NOT_FOUND 2            /* a collection, alias, point or file does not exist */
#define QV_ALREADY_EXISTS 3       /* creating something that exists */
#define QV_CORRUPTION 4           /* stored bytes fail a checksum or a structural check */
#define QV_IO_ERROR 5             /* the operating system failed */
#define QV_NOT_SUPPORTED 6        /* an optional capability this build lacks */
#define QV_FAILED_PRECONDITION 7  /* wrong state: database closed, opened read-only, ... */
#define QV_BUSY 8                 /* another process holds the database's writer lock */
#define QV_RESOURCE_EXHAUSTED 9   /* a size limit was exceeded */
#define QV_INTERNAL 10            /* a broken invariant inside Quiver (a bug: please report it) */
#define QV_NO_MEMORY 11           /* an allocation failed */
#define QV_MISUSE 12              /* the API was called wrongly: a NULL handle or output pointer */

/* The lower-case name of a code ("invalid argument"); "unknown" for a number this version does not know. Static
 * storage; never NULL. */
QV_API const char* qv_status_name(int code);

/* Releases a string or buffer that Quiver returned through a `char**` argument. NULL is a no-op. */
QV_API void qv_free(void* p);

/* ---- Handles --------------------------------------------------------------------------------------------- */

typedef struct qv_options qv_options;
typedef struct qv_database qv_database;
typedef struct qv_collection qv_collection;
typedef struct qv_result qv_result;
typedef struct qv_sync qv_sync;

/* ---- Open options ---------------------------------------------------------------------------------------- */

/* Creates a set of open options with the defaults. QV_NO_MEMORY or QV_MISUSE (out is NULL). */
QV_API int qv_options_create(qv_options** out);
/* Sets one option by name. Known keys and values:
 *   "durability"      "sync" (default: a write is durable when its call returns), "batched" (within ~100 ms or at
 *                     qv_db_flush), "none" (at qv_db_flush or close only)
 *   "read_only"       "true" / "false" (default): open without the writer lock; writes fail
 *   "threads"         "0" (default: no background threads, index builds run on the writing thread), "N" (N threads
 *                     for index builds and merges, the writing thread counted: "1" is the same as "0", merges run
 *                     on the writing thread after its write), "auto" (one per hardware thread)
 *   "segment_points"  points per sealed segment (default 20000)
 *   "auto_optimize"   "true" (default) / "false": merge and index segments automatically after a seal
 * QV_INVALID_ARGUMENT for an unknown key or a bad value (the options are unchanged). */
QV_API int qv_options_set(qv_options* options, const char* key, const char* value);
/* Releases options. NULL is a no-op. */
QV_API void qv_options_destroy(qv_options* options);

/* ---- Database -------------------------------------------------------------------------------------------- */

/* Opens (creating if needed) the database in folder `path`, or an in-memory database when path is NULL or "".
 * `options` may be NULL for the defaults; it is copied and may be destroyed afterwards. On success *out is the
 * handle; on failure *out is NULL and, when `errmsg` is not NULL, *errmsg is a message to release with qv_free.
 * QV_BUSY when another writer has the folder open; QV_CORRUPTION for damaged files; QV_IO_ERROR. */
QV_API int qv_open(const char* path, const qv_options* options, qv_database** out, char** errmsg);
/* Flushes, waits for background work and releases the folder's lock. The handle stays allocated (for
 * qv_db_errmsg) and every later call on it fails with QV_FAILED_PRECONDITION; collection handles from it are
 * detached. Release it with qv_db_destroy. */
QV_API int qv_db_close(qv_database* db);
/* Closes if still open (errors are ignored: call qv_db_close first to see them) and releases the handle.
 * Collection handles must be destroyed separately. NULL is a no-op. */
QV_API void qv_db_destroy(qv_database* db);
/* The message of the most recent failed call on this handle, "" if none. Never NULL (also for db == NULL). */
QV_API const char* qv_db_errmsg(const qv_database* db);
/* The code of the most recent failed call on this handle, QV_OK if none. */
QV_API int qv_db_errcode(const qv_database* db);
/* Makes every write so far durable. */
QV_API int qv_db_flush(qv_database* db);

/* Runs any operation of Qdrant's REST API that Quiver serves, by its Qdrant operation id ("create_collection",
 * "upsert_points", "search_points", "scroll_points", "batch_update", ...; docs/c-api.md lists them all), on the
 * collection or alias `collection` (NULL for database operations such as "get_collections"), with its JSON body
 * (NULL or "" when it takes none). `key` is the path parameter of "get_point" (the point id) and
 * "delete_field_index" (the field name), else NULL. *result (may be NULL) is Qdrant's "result" value as JSON,
 * released with qv_free. QV_INVALID_ARGUMENT for an unknown operation or a bad body (the message names the part),
 * QV_NOT_FOUND for a missing collection or point. */
QV_API int qv_db_request(qv_database* db, const char* operation, const char* collection, const char* key,
                         const char* body, char** result);

#define QV_DISTANCE_COSINE 0
#define QV_DISTANCE_EUCLID 1
#define QV_DISTANCE_DOT 2
#define QV_DISTANCE_MANHATTAN 3

/* Creates a collection of one unnamed dense vector of `dim` (1..65536) dimensions with an HNSW index and the
 * default parameters. Names are 1..255 of letters, digits, '-', '_', '.'. QV_ALREADY_EXISTS if the name is taken
 * by a collection or an alias; QV_INVALID_ARGUMENT for a bad name, dimension or distance. */
QV_API int qv_db_create_collection(qv_database* db, const char* name, uint32_t dim, int distance);
/* Creates a collection from Qdrant's create-collection body, e.g.
 * {"vectors": {"size": 4, "distance": "Cosine"}, "hnsw_config": {"m": 16, "ef_construct": 100}}, or named vectors
 * {"vectors": {"image": {...}, "text": {...}}}; "quantization_config": {"scalar": {"type": "int8", "quantile":
 * 0.99}} keeps int8 codes that searches walk before rescoring with the floats. QV_INVALID_ARGUMENT names the bad
 * part of the body. */
QV_API int qv_db_create_collection_json(qv_database* db, const char* name, const char* config_json);
/* Deletes a collection and its files, and the aliases that point at it. QV_NOT_FOUND if absent. */
QV_API int qv_db_drop_collection(qv_database* db, const char* name);
/* 1 if a collection (not an alias) of that name exists, else 0 (also for bad arguments). */
QV_API int qv_db_collection_exists(qv_database* db, const char* name);
/* Qdrant's list body: {"collections": [{"name": "a"}, ...]}, sorted by name. Release *out with qv_free. */
QV_API int qv_db_list_collections_json(qv_database* db, char** out);
/* Opens a handle on a collection by name or alias. QV_NOT_FOUND if neither exists. Release with
 * qv_collection_destroy; the handle may outlive the database handle but then fails with QV_FAILED_PRECONDITION. */
QV_API int qv_db_collection(qv_database* db, const char* name_or_alias, qv_collection** out);

/* Aliases (Qdrant's): another name by which a collection can be opened. Creating an alias that exists re-points
 * it (as in Qdrant). QV_ALREADY_EXISTS if the name is a collection's; QV_NOT_FOUND for an unknown collection. */
QV_API int qv_db_create_alias(qv_database* db, const char* alias, const char* collection);
/* QV_NOT_FOUND if the alias does not exist. */
QV_API int qv_db_delete_alias(qv_database* db, const char* alias);
/* QV_NOT_FOUND if old_alias does not exist; QV_ALREADY_EXISTS if new_alias is a collection's name. */
QV_API int qv_db_rename_alias(qv_database* db, const char* old_alias, const char* new_alias);
/* Qdrant's body: {"aliases": [{"alias_name": "a", "collection_name": "c"}, ...]}. Release *out with qv_free. */
QV_API int qv_db_list_aliases_json(qv_database* db, char** out);

/* Creates collection `name` from a snapshot file written by qv_collection_snapshot. QV_ALREADY_EXISTS if the name
 * is taken; QV_NOT_FOUND / QV_IO_ERROR if the file cannot be read; QV_CORRUPTION for a damaged snapshot (nothing
 * is created then). */
QV_API int qv_db_restore_snapshot(qv_database* db, const char* name, const char* snapshot_path);

/* Damage stays with its collection: a database whose collection has damaged files opens, and qv_db_collection
 * for that collection fails with QV_CORRUPTION naming the file (the other collections work). qv_db_repair_json
 * rebuilds derived data (HNSW graphs, payload indexes) from the vectors and payloads, keeps whatever checks out,
 * and writes its report to *out: {"collection": "c", "points": 118, "rebuilt": ["seg-1-9.qvs: ..."], "lost":
 * ["seg-1-12.qvs: 40 points lost (...)"]}. A healthy collection is left as it is (empty lists). Release *out
 * with qv_free. QV_FAILED_PRECONDITION in memory or read-only; QV_NOT_FOUND for an unknown name. */
QV_API int qv_db_repair_json(qv_database* db, const char* name, char** out);

/* ---- Collection ------------------------------------------------------------------------------------------ */

/* Releases a collection handle. NULL is a no-op. */
QV_API void qv_collection_destroy(qv_collection* collection);
/* The message / code of the most recent failed call on this handle ("" / QV_OK if none). Never NULL. */
QV_API const char* qv_collection_errmsg(const qv_collection* collection);
QV_API int qv_collection_errcode(const qv_collection* collection);
/* The collection's name (not the alias it was opened by). Valid while the handle lives. */
QV_API const char* qv_collection_name(const qv_collection* collection);

/* Inserts or replaces `count` points of the vector `vector_name` (NULL or "" for the unnamed vector):
 * ids[i] with vectors[i * dim .. (i + 1) * dim) and payloads[i] (a JSON object; `payloads` may be NULL and any
 * entry may be NULL for an empty payload). `dim` must equal the collection's dimension (QV_INVALID_ARGUMENT
 * naming both otherwise). The batch is validated
 * whole first: a wrong dimension, NaN or infinity, or a payload that is not a JSON object fails with
 * QV_INVALID_ARGUMENT naming the point, and nothing is written. Duplicate ids: the last one wins. */
QV_API int qv_collection_upsert(qv_collection* collection, const char* vector_name, const uint64_t* ids,
                                const float* vectors, size_t count, size_t dim, const char* const* payloads);
/* Qdrant's upsert body: {"points": [{"id": 1, "vector": [...], "payload": {...}}, ...]} or
 * {"batch": {"ids": [...], "vectors": [[...], ...], "payloads": [...]}}. All or nothing, as above. */
QV_API int qv_collection_upsert_json(qv_collection* collection, const char* body);

/* Flags for what a result carries. */
#define QV_WITH_PAYLOAD 1u /* payloads */
#define QV_WITH_VECTOR 2u  /* all vectors (cosine vectors come back normalised) */
#define QV_EXACT 4u        /* search: scan exactly instead of walking the HNSW graph */

/* Points by id, in the order asked; ids that do not exist are skipped. */
QV_API int qv_collection_get(qv_collection* collection, const uint64_t* ids, size_t count, unsigned flags,
                             qv_result** out);
/* Qdrant's body {"ids": [...], "with_payload": ..., "with_vector": ...}; *out is the JSON array of records. */
QV_API int qv_collection_get_json(qv_collection* collection, const char* body, char** out);

/* Deletes points by id; *deleted (may be NULL) is how many existed. */
QV_API int qv_collection_delete(qv_collection* collection, const uint64_t* ids, size_t count, uint64_t* deleted);
/* Deletes the points matching a filter (Qdrant's filter JSON). */
QV_API int qv_collection_delete_by_filter(qv_collection* collection, const char* filter_json, uint64_t* deleted);
/* Qdrant's points selector body: {"points": [ids]} or {"filter": {...}}. */
QV_API int qv_collection_delete_json(qv_collection* collection, const char* body, uint64_t* deleted);

/* Payload operations. The points are chosen by `ids` (count of them) when filter_json is NULL, else by the filter.
 * *changed (may be NULL) is how many points changed. With ids, QV_NOT_FOUND if one of them does not exist (nothing
 * changes then). */
/* Merges the keys of payload_json (an object) into each point's payload. */
QV_API int qv_collection_set_payload(qv_collection* collection, const uint64_t* ids, size_t count,
                                     const char* filter_json, const char* payload_json, uint64_t* changed);
/* Replaces each point's payload with payload_json. */
QV_API int qv_collection_overwrite_payload(qv_collection* collection, const uint64_t* ids, size_t count,
                                           const char* filter_json, const char* payload_json, uint64_t* changed);
/* Removes the keys keys[0 .. key_count) (JSON paths such as "a.b") from each point's payload. */
QV_API int qv_collection_delete_payload_keys(qv_collection* collection, const uint64_t* ids, size_t count,
                                             const char* filter_json, const char* const* keys, size_t key_count,
                                             uint64_t* changed);
/* Removes each point's whole payload. */
QV_API int qv_collection_clear_payload(qv_collection* collection, const uint64_t* ids, size_t count,
                                       const char* filter_json, uint64_t* changed);
/* Qdrant's bodies: set/overwrite {"payload": {...}, "points": [...] | "filter": {...}}; delete keys
 * {"keys": [...], "points" | "filter"}; clear: a points selector {"points": [...]} or {"filter": {...}}. */
QV_API int qv_collection_set_payload_json(qv_collection* collection, const char* body, uint64_t* changed);
QV_API int qv_collection_overwrite_payload_json(qv_collection* collection, const char* body, uint64_t* changed);
QV_API int qv_collection_delete_payload_json(qv_collection* collection, const char* body, uint64_t* changed);
QV_API int qv_collection_clear_payload_json(qv_collection* collection, const char* body, uint64_t* changed);

/* The `limit` points closest to `vector` (dim floats) of the unnamed vector, best first, that match filter_json
 * (NULL for none). ef: the HNSW beam width, 0 for the default (max(limit, ef_construct)). flags: QV_WITH_PAYLOAD,
 * QV_WITH_VECTOR, QV_EXACT. Scores: Cosine and Dot similarity (higher is closer), Euclid and Manhattan distance
 * (lower is closer). QV_INVALID_ARGUMENT for a wrong dimension, NaN, a bad filter. */
QV_API int qv_collection_search(qv_collection* collection, const float* vector, size_t dim, size_t limit, size_t ef,
                                const char* filter_json, unsigned flags, qv_result** out);
/* `count` searches at once (vectors row-major, count * dim floats), each as qv_collection_search. On success
 * out[0 .. count) are result handles, each released with qv_result_free; on failure all are NULL. */
QV_API int qv_collection_search_batch(qv_collection* collection, const float* vectors, size_t count, size_t dim,
                                      size_t limit, size_t ef, const char* filter_json, unsigned flags,
                                      qv_result** out);
/* Qdrant's search body ({"vector": [...], "filter": {...}, "limit": 10, "params": {"hnsw_ef": 64}, ...}; on a
 * quantized collection "params": {"quantization": {"ignore": false, "rescore": true, "oversampling": 2.0}});
 * *out is the JSON array of scored points. */
QV_API int qv_collection_search_json(qv_collection* collection, const char* body, char** out);
/* Qdrant's {"searches": [search, ...]}; *out is a JSON array of arrays. */
QV_API int qv_collection_search_batch_json(qv_collection* collection, const char* body, char** out);

/* Recommends points like positive[0 .. positive_count) and unlike negative[0 .. negative_count) (point ids) with
 * Qdrant's average_vector strategy; the example points themselves are left out. QV_NOT_FOUND for an unknown id. */
QV_API int qv_collection_recommend(qv_collection* collection, const uint64_t* positive, size_t positive_count,
                                   const uint64_t* negative, size_t negative_count, size_t limit,
                                   const char* filter_json, unsigned flags, qv_result** out);
/* Qdrant's recommend body; *out is the JSON array of scored points. */
QV_API int qv_collection_recommend_json(qv_collection* collection, const char* body, char** out);

/* Qdrant's Query API (docs/api.md, "The Query API"): a QueryRequest body such as
 * {"prefetch": [{"query": [...], "using": "dense", "limit": 50}, {"query": [...], "using": "title", "limit": 50}],
 *  "query": {"fusion": "rrf"}, "limit": 10, "with_payload": true}; nearest (a vector, or a point id: the point is
 * left out), recommend (average_vector), order_by a payload field, fusion (rrf with k and weights, dbsf),
 * prefetches nested to any depth, the outer query rescoring or fusing what they found. *out is
 * {"points": [...]} (an order_by query adds each point's "order_value"). lookup_from naming another collection
 * needs the database: use qv_db_request("query_points", ...) for it. QV_INVALID_ARGUMENT names the bad part
 * ("query.prefetch[1].using: ..."); QV_NOT_SUPPORTED for sparse vectors and documents (not yet), other query
 * kinds and strategies, naming them. */
QV_API int qv_collection_query_json(qv_collection* collection, const char* body, char** out);
/* Qdrant's {"searches": [QueryRequest, ...]}; *out is a JSON array of {"points": [...]}. */
QV_API int qv_collection_query_batch_json(qv_collection* collection, const char* body, char** out);
/* Qdrant's QueryGroupsRequest: a query body with "group_by" (a payload key), "group_size" (default 3) and
 * "limit" (groups, default 10); *out is {"groups": [{"id": ..., "hits": [...]}, ...]}. with_lookup (attaching the
 * point of another collection whose id is the group id) needs the database: use qv_db_request
 * ("query_points_groups", ...). */
QV_API int qv_collection_query_groups_json(qv_collection* collection, const char* body, char** out);

/* Up to `limit` points matching filter_json (NULL for all) in id order, starting at id *offset (NULL: from the
 * start). qv_result_next_offset tells where the next page starts. */
QV_API int qv_collection_scroll(qv_collection* collection, const char* filter_json, size_t limit,
                                const uint64_t* offset, unsigned flags, qv_result** out);
/* Qdrant's scroll body; *out is {"points": [...], "next_page_offset": id | null}. */
QV_API int qv_collection_scroll_json(qv_collection* collection, const char* body, char** out);

/* Exact count of live points matching filter_json (NULL counts all). */
QV_API int qv_collection_count(qv_collection* collection, const char* filter_json, uint64_t* count);
/* Qdrant's count body {"filter": {...}, "exact": true}. */
QV_API int qv_collection_count_json(qv_collection* collection, const char* body, uint64_t* count);

/* Payload indexes: type is "keyword", "integer", "float", "bool", "uuid", "datetime", "geo" or "text". An index
 * changes the speed of filters, never their results. */
QV_API int qv_collection_create_payload_index(qv_collection* collection, const char* field, const char* type);
/* Qdrant's {"field_name": "city", "field_schema": "keyword"}. */
QV_API int qv_collection_create_payload_index_json(qv_collection* collection, const char* body);
/* QV_NOT_FOUND if the field has no index. */
QV_API int qv_collection_delete_payload_index(qv_collection* collection, const char* field);

/* Writes a consistent point-in-time snapshot of the collection to the file `path` (replacing it; written to a
 * temporary name first and renamed). */
QV_API int qv_collection_snapshot(qv_collection* collection, const char* path);
/* Compaction: seals the write segment, merges segments, builds their indexes, drops deleted points and expired
 * tombstones. Returns when done. */
QV_API int qv_collection_optimize(qv_collection* collection);
/* Qdrant's collection info body ({"status": "green", "points_count": ..., "config": {...}, ...}). */
QV_API int qv_collection_info_json(qv_collection* collection, char** out);
/* {"points", "tombstones", "segments", "indexed_vectors", "unindexed_vectors", "disk_bytes", "memory_bytes",
 * "simd"}: sizes and the SIMD instruction set the distance kernels use. */
QV_API int qv_collection_stats_json(qv_collection* collection, char** out);
/* Checks every checksum of the collection's files and every index invariant. *problems (may be NULL) is how many
 * problems were found; *report (may be NULL) is a JSON array of strings describing them ([] when all is well).
 * Returns QV_OK when the check ran, whatever it found. */
QV_API int qv_collection_verify(qv_collection* collection, size_t* problems, char** report);

/* ---- Sync ------------------------------------------------------------------------------------------------ */
/* Keeps collections of a database in step with a quiverd server over http:// or https:// (docs/sync.md; the
 * protocol's properties: every write made anywhere reaches every replica, concurrent edits resolve the same way
 * everywhere, a crash at any point loses nothing acknowledged). A qv_sync handle is used by one thread at a time
 * (qv_sync_interrupt excepted); the database may be written and read by other threads meanwhile. Destroy sync
 * handles before the database handle they were opened on. */

/* The bearer token for the server (its API key, a tenant key or a JWT: docs/server.md, "Auth"). Called once when
 * set (refresh = 0), and on the thread running qv_sync_run when the server answered 401 (refresh = 1; the request
 * is then sent again once). Return a NUL-terminated token, which Quiver copies at once (the memory
 * stays yours), or NULL when there is none: the round then fails with QV_FAILED_PRECONDITION. */
typedef const char* (*qv_sync_token_fn)(void* user_data, int refresh);

/* What to do with a point the server rejected (docs/sync.md, "Rejections"). */
#define QV_SYNC_KEEP_SERVER 0   /* the local point becomes the server's (later local edits stay) */
#define QV_SYNC_REAPPLY_LOCAL 1 /* the rejected local values are written again with fresh stamps */
/* Called on the thread running qv_sync_run for each rejected point. conflict_json, valid during the call, is
 * {"collection": "docs", "id": 7, "reason": "stale_op" | "invalid" | "forbidden" | "collection_gone",
 *  "local": <the registers pushed> | null, "server": <the server's point> | null}, points in the wire form of
 * docs/sync.md ("Points"). Returns QV_SYNC_KEEP_SERVER or QV_SYNC_REAPPLY_LOCAL; other values keep the server's. */
typedef int (*qv_sync_conflict_fn)(void* user_data, const char* conflict_json);

/* Opens a sync handle for `db` with the server at `url` ("http://host:port" or "https://host:port", optionally
 * followed by the path prefix quiverd is served under). options_json (NULL for the defaults) is an object:
 *   "collections"  ["docs", ...]: the collections to sync, by local name (the same name on the server). Default:
 *                  every collection the database has now. A collection missing locally fails the round.
 *   "api_key"      the bearer token, when no token callback is set
 *   "wait_ms"      0 (default), or 1..25000: each round ends with a long-poll that waits this long for changes
 *                  (live sync: call qv_sync_run in a loop)
 *   "ca_file"      https: a PEM file of trusted certificates instead of the system's
 *   "verify_tls"   true (default) / false: check the server's certificate and name (false: tests only)
 *   "timeout_ms"   per connect, request and answer (beyond the long-poll's wait), default 30000
 *   "client"       a name sent when the replica registers, default "quiver-c"
 * Nothing is sent before the first qv_sync_run. On failure *out is NULL and the message is on the database
 * handle (qv_db_errmsg): QV_INVALID_ARGUMENT for a bad URL or option (named), QV_NOT_FOUND for an unreadable CA
 * file. */
QV_API int qv_sync_open(qv_database* db, const char* url, const char* options_json, qv_sync** out);
/* Sets (fn NULL: removes) the token callback; it takes precedence over "api_key". Set before the first qv_sync_run,
 * it gives the first token (refresh = 0); set later, it is asked at the next 401. */
QV_API int qv_sync_set_token_callback(qv_sync* sync, qv_sync_token_fn fn, void* user_data);
/* Sets (fn NULL: removes) the conflict callback; without one, the server's point is kept. Conflicts are also
 * recorded in the database until cleared (qv_sync_conflicts_json). */
QV_API int qv_sync_set_conflict_callback(qv_sync* sync, qv_sync_conflict_fn fn, void* user_data);
/* One round, blocking: per collection, push what this replica wrote since the last acknowledged push, then pull
 * what the server has that this replica lacks (a snapshot the first time), then (with "wait_ms") wait for more.
 * Every step commits locally on its own, so a failed round keeps what it finished and the next one carries on.
 * QV_IO_ERROR when the server cannot be reached, a TLS check fails (the message says why: "certificate verify
 * failed: self-signed certificate"), or the round was interrupted; QV_FAILED_PRECONDITION when the server refuses
 * (a wrong key: "... HTTP 401 ...", a collection of that name with another configuration: "... 409 ...") or the
 * database is closed; QV_NOT_FOUND for a collection missing locally. After a failure, wait
 * qv_sync_retry_delay_ms before the next round. */
QV_API int qv_sync_run(qv_sync* sync);
/* Ends the round running on another thread at once (QV_IO_ERROR, "interrupted"), or the next round if none runs.
 * Safe from any thread; not from a signal handler. */
QV_API int qv_sync_interrupt(qv_sync* sync);
/* Milliseconds to wait before the next round after a failed one (exponential backoff with jitter); 0 after a
 * success. */
QV_API uint64_t qv_sync_retry_delay_ms(const qv_sync* sync);
/* The handle's status and counters since it was opened: {"rounds", "failed_rounds", "pushed_points" (points
 * pushed), "pulled_points" (points pulled page by page), "rejected_points", "resyncs" (snapshots installed: the
 * first round's included), "clock_repairs", "digest_mismatches", "requests", "connections", "retry_delay_ms",
 * "last_round": null before the first round, "ok", or the last round's error ("IO error: ...")}. Release *out
 * with qv_free. */
QV_API int qv_sync_stats_json(qv_sync* sync, char** out);
/* The conflicts recorded for `collection` (NULL: every synced collection), oldest first, as a JSON array of the
 * objects the conflict callback receives. Release *out with qv_free. */
QV_API int qv_sync_conflicts_json(qv_sync* sync, const char* collection, char** out);
/* Forgets the recorded conflicts of `collection` (NULL: of every synced collection). */
QV_API int qv_sync_clear_conflicts(qv_sync* sync, const char* collection);
/* The message / code of the most recent failed call on this handle ("" / QV_OK if none). Never NULL. */
QV_API const char* qv_sync_errmsg(const qv_sync* sync);
QV_API int qv_sync_errcode(const qv_sync* sync);
/* Closes the connection and releases the handle. NULL is a no-op. */
QV_API void qv_sync_destroy(qv_sync* sync);

/* ---- Result sets ----------------------------------------------------------------------------------------- */

/* Number of points in the result. 0 for NULL. */
QV_API size_t qv_result_count(const qv_result* result);
/* The id of point i (i < count); 0 for a UUID id or i out of range. */
QV_API uint64_t qv_result_id(const qv_result* result, size_t i);
/* The id of point i as text: the decimal number or the hyphenated UUID. NULL if i is out of range. */
QV_API const char* qv_result_id_str(const qv_result* result, size_t i);
/* The score of point i (searches and recommendations; 0 otherwise). */
QV_API float qv_result_score(const qv_result* result, size_t i);
/* The payload of point i as JSON object text; NULL when payloads were not asked for or i is out of range. */
QV_API const char* qv_result_payload(const qv_result* result, size_t i);
/* The vector `name` (NULL or "" for the unnamed one) of point i; *dim (may be NULL) is its length. NULL when
 * vectors were not asked for or the point has no such vector. */
QV_API const float* qv_result_vector(const qv_result* result, size_t i, const char* name, size_t* dim);
/* Scroll: 1 and *offset set when there is a next page starting at a numeric id, else 0. */
QV_API int qv_result_next_offset(const qv_result* result, uint64_t* offset);
/* The whole result as Qdrant's JSON (an array of points; for scroll {"points": ..., "next_page_offset": ...}).
 * Built on first use; NULL only when out of memory. */
QV_API const char* qv_result_json(qv_result* result);
/* Releases a result. NULL is a no-op. */
QV_API void qv_result_free(qv_result* result);

#ifdef __cplusplus
}
#endif

#endif /* QUIVER_C_API_H_ */
