/* The C API tested from C (compiled as C99, not C++): every function, its success path and its error paths,
 * in memory and on disk. Run under AddressSanitizer + UBSan in the native-asan preset (leaks included).
 *
 * usage: c_api_test TMPDIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "quiver.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    ++checks;                                                                    \
    if (!(cond)) {                                                               \
      ++failures;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

#define CHECK_RC(expr, want)                                                                      \
  do {                                                                                            \
    int rc_ = (expr);                                                                             \
    ++checks;                                                                                     \
    if (rc_ != (want)) {                                                                          \
      ++failures;                                                                                 \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, #expr, rc_, \
              qv_status_name(rc_), (want), qv_status_name(want));                                 \
    }                                                                                             \
  } while (0)

/* The collection's last message contains `part`. */
static void check_msg(const char* msg, const char* part, int line) {
  ++checks;
  if (!msg || !strstr(msg, part)) {
    ++failures;
    fprintf(stderr, "c_api_test.c:%d: message '%s' lacks '%s'\n", line, msg ? msg : "(null)", part);
  }
}
#define CHECK_MSG(msg, part) check_msg((msg), (part), __LINE__)

static char dir_path[1024];

static void path_in_dir(char* out, size_t n, const char* name) { snprintf(out, n, "%s/%s", dir_path, name); }

static void test_versions_and_codes(void) {
  CHECK(strcmp(qv_version(), QUIVER_VERSION) == 0);
  CHECK(qv_version_number() == QUIVER_VERSION_NUMBER);
  CHECK(QUIVER_VERSION_NUMBER == QUIVER_VERSION_MAJOR * 10000 + QUIVER_VERSION_MINOR * 100 + QUIVER_VERSION_PATCH);
  CHECK(strcmp(qv_status_name(QV_OK), "ok") == 0);
  CHECK(strcmp(qv_status_name(QV_NOT_FOUND), "not found") == 0);
  CHECK(strcmp(qv_status_name(12345), "unknown") == 0);
  qv_free(NULL);
}

static void test_options(void) {
  qv_options* o = NULL;
  CHECK_RC(qv_options_create(NULL), QV_MISUSE);
  CHECK_RC(qv_options_create(&o), QV_OK);
  CHECK_RC(qv_options_set(o, "durability", "batched"), QV_OK);
  CHECK_RC(qv_options_set(o, "durability", "sometimes"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_options_set(o, "read_only", "false"), QV_OK);
  CHECK_RC(qv_options_set(o, "read_only", "maybe"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_options_set(o, "threads", "2"), QV_OK);
  CHECK_RC(qv_options_set(o, "threads", "auto"), QV_OK);
  CHECK_RC(qv_options_set(o, "threads", "-1"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_options_set(o, "segment_points", "0"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_options_set(o, "segment_points", "100"), QV_OK);
  CHECK_RC(qv_options_set(o, "auto_optimize", "true"), QV_OK);
  CHECK_RC(qv_options_set(o, "no_such_option", "1"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_options_set(o, NULL, "1"), QV_MISUSE);
  CHECK_RC(qv_options_set(NULL, "threads", "1"), QV_MISUSE);
  qv_options_destroy(o);
  qv_options_destroy(NULL);
}

static void test_null_safety(void) {
  qv_db_destroy(NULL);
  qv_collection_destroy(NULL);
  qv_result_free(NULL);
  CHECK(strcmp(qv_db_errmsg(NULL), "") == 0);
  CHECK(qv_db_errcode(NULL) == QV_OK);
  CHECK(strcmp(qv_collection_errmsg(NULL), "") == 0);
  CHECK(qv_collection_errcode(NULL) == QV_OK);
  CHECK(qv_result_count(NULL) == 0);
  CHECK(qv_result_id_str(NULL, 0) == NULL);
  CHECK(qv_result_json(NULL) == NULL);
  CHECK_RC(qv_open(NULL, NULL, NULL, NULL), QV_MISUSE);
  CHECK_RC(qv_db_flush(NULL), QV_MISUSE);
  CHECK_RC(qv_db_close(NULL), QV_MISUSE);
  CHECK_RC(qv_db_create_collection(NULL, "x", 3, QV_DISTANCE_DOT), QV_MISUSE);
  CHECK(qv_db_collection_exists(NULL, "x") == 0);
  CHECK_RC(qv_collection_upsert(NULL, NULL, NULL, NULL, 0, 0, NULL), QV_MISUSE);
  CHECK_RC(qv_collection_optimize(NULL), QV_MISUSE);
  uint64_t n = 0;
  CHECK_RC(qv_collection_count(NULL, NULL, &n), QV_MISUSE);
}

/* Four 4-d points: id i has vector e_i (a unit vector along axis i), payload {"n": i, "tag": "even"/"odd"}. */
static void fill(qv_collection* c) {
  uint64_t ids[4] = {1, 2, 3, 4};
  float vectors[16] = {0};
  const char* payloads[4] = {"{\"n\": 1, \"tag\": \"odd\"}", "{\"n\": 2, \"tag\": \"even\"}", "{\"n\": 3, \"tag\": \"odd\"}", NULL};
  for (int i = 0; i < 4; ++i) vectors[i * 4 + i] = 1.0f;
  CHECK_RC(qv_collection_upsert(c, NULL, ids, vectors, 4, 4, payloads), QV_OK);
}

static void test_collections_and_aliases(qv_database* db) {
  CHECK_RC(qv_db_create_collection(db, "a", 4, QV_DISTANCE_COSINE), QV_OK);
  CHECK_RC(qv_db_create_collection(db, "a", 4, QV_DISTANCE_COSINE), QV_ALREADY_EXISTS);
  CHECK_MSG(qv_db_errmsg(db), "a");
  CHECK(qv_db_errcode(db) == QV_ALREADY_EXISTS);
  CHECK_RC(qv_db_create_collection(db, "bad name!", 4, QV_DISTANCE_COSINE), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_db_create_collection(db, "zero", 0, QV_DISTANCE_COSINE), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_db_create_collection(db, "dist", 4, 99), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_db_errmsg(db), "distance");
  CHECK_RC(qv_db_create_collection(db, NULL, 4, QV_DISTANCE_COSINE), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_db_create_collection_json(db, "b", "{\"vectors\": {\"size\": 2, \"distance\": \"Euclid\"}}"), QV_OK);
  CHECK_RC(qv_db_create_collection_json(db, "c", "{\"vectors\": {\"size\": 2, "), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_db_errmsg(db), "malformed JSON");
  CHECK_RC(qv_db_create_collection_json(db, "c", "{\"vectors\": {\"size\": 2, \"distance\": \"Nope\"}}"), QV_INVALID_ARGUMENT);
  CHECK(qv_db_collection_exists(db, "a") == 1);
  CHECK(qv_db_collection_exists(db, "c") == 0);
  CHECK(qv_db_collection_exists(db, NULL) == 0);

  char* json = NULL;
  CHECK_RC(qv_db_list_collections_json(db, &json), QV_OK);
  CHECK(json && strcmp(json, "{\"collections\":[{\"name\":\"a\"},{\"name\":\"b\"}]}") == 0);
  qv_free(json);
  CHECK_RC(qv_db_list_collections_json(db, NULL), QV_MISUSE);

  CHECK_RC(qv_db_create_alias(db, "latest", "a"), QV_OK);
  CHECK_RC(qv_db_create_alias(db, "latest", "b"), QV_OK); /* re-points, as in Qdrant */
  CHECK_RC(qv_db_create_alias(db, "latest", "a"), QV_OK);
  CHECK_RC(qv_db_create_alias(db, "b", "a"), QV_ALREADY_EXISTS); /* a collection's name */
  CHECK_RC(qv_db_create_alias(db, "bad alias!", "a"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_db_create_alias(db, "other", "missing"), QV_NOT_FOUND);
  CHECK_RC(qv_db_rename_alias(db, "latest", "current"), QV_OK);
  CHECK_RC(qv_db_rename_alias(db, "latest", "x"), QV_NOT_FOUND);
  CHECK_RC(qv_db_list_aliases_json(db, &json), QV_OK);
  CHECK(json && strstr(json, "\"alias_name\":\"current\"") && strstr(json, "\"collection_name\":\"a\""));
  qv_free(json);
  qv_collection* via_alias = NULL;
  CHECK_RC(qv_db_collection(db, "current", &via_alias), QV_OK);
  CHECK(via_alias && strcmp(qv_collection_name(via_alias), "a") == 0);
  qv_collection_destroy(via_alias);
  CHECK_RC(qv_db_delete_alias(db, "current"), QV_OK);
  CHECK_RC(qv_db_delete_alias(db, "current"), QV_NOT_FOUND);
  qv_collection* missing = (qv_collection*)1;
  CHECK_RC(qv_db_collection(db, "missing", &missing), QV_NOT_FOUND);
  CHECK(missing == NULL);
  CHECK_MSG(qv_db_errmsg(db), "missing");
  CHECK_RC(qv_db_collection(db, "a", NULL), QV_MISUSE);

  CHECK_RC(qv_db_drop_collection(db, "b"), QV_OK);
  CHECK_RC(qv_db_drop_collection(db, "b"), QV_NOT_FOUND);
  CHECK_RC(qv_db_flush(db), QV_OK);
}

static void test_points(qv_database* db) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "a", &c), QV_OK);
  fill(c);
  uint64_t n = 0;
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == 4);
  CHECK_RC(qv_collection_count(c, NULL, NULL), QV_MISUSE);

  /* Upsert errors: nothing is written. */
  uint64_t ids[2] = {10, 11};
  float two[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_RC(qv_collection_upsert(c, NULL, ids, two, 2, 3, NULL), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "dimensions");
  CHECK(qv_collection_errcode(c) == QV_INVALID_ARGUMENT);
  two[5] = NAN;
  CHECK_RC(qv_collection_upsert(c, NULL, ids, two, 2, 4, NULL), QV_INVALID_ARGUMENT);
  two[5] = 6;
  two[6] = INFINITY;
  CHECK_RC(qv_collection_upsert(c, NULL, ids, two, 2, 4, NULL), QV_INVALID_ARGUMENT);
  two[6] = 7;
  const char* bad_payloads[2] = {"{}", "[1, 2]"};
  CHECK_RC(qv_collection_upsert(c, NULL, ids, two, 2, 4, bad_payloads), QV_INVALID_ARGUMENT);
  const char* broken_payloads[2] = {"{\"a\": ", NULL};
  CHECK_RC(qv_collection_upsert(c, NULL, ids, two, 2, 4, broken_payloads), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_upsert(c, "nope", ids, two, 2, 4, NULL), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "nope");
  CHECK_RC(qv_collection_upsert(c, NULL, NULL, two, 2, 4, NULL), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == 4);

  /* JSON upsert. */
  CHECK_RC(qv_collection_upsert_json(c, "{\"points\": [{\"id\": 5, \"vector\": [1, 1, 0, 0], \"payload\": {\"n\": 5}},"
                                        " {\"id\": \"550e8400-e29b-41d4-a716-446655440000\", \"vector\": [0, 0, 1, 1]}]}"),
           QV_OK);
  CHECK_RC(qv_collection_upsert_json(c, "{\"points\": [{\"id\": 6, \"vector\": [1, 1]}]}"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_upsert_json(c, "not json"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_upsert_json(c, NULL), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == 6);
  CHECK_RC(qv_collection_count(c, "{\"must\": [{\"key\": \"tag\", \"match\": {\"value\": \"odd\"}}]}", &n), QV_OK);
  CHECK(n == 2);
  CHECK_RC(qv_collection_count(c, "{\"must\": 5}", &n), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_count_json(c, "{\"filter\": {\"must\": [{\"key\": \"n\", \"range\": {\"gte\": 2}}]}, \"exact\": true}", &n), QV_OK);
  CHECK(n == 3);
  CHECK_RC(qv_collection_count_json(c, "{\"filter\": 3}", &n), QV_INVALID_ARGUMENT);

  /* Get. */
  qv_result* r = NULL;
  uint64_t get_ids[3] = {2, 99, 1};
  CHECK_RC(qv_collection_get(c, get_ids, 3, QV_WITH_PAYLOAD | QV_WITH_VECTOR, &r), QV_OK);
  CHECK(qv_result_count(r) == 2);
  CHECK(qv_result_id(r, 0) == 2 && qv_result_id(r, 1) == 1);
  CHECK(strcmp(qv_result_id_str(r, 0), "2") == 0);
  CHECK(qv_result_id_str(r, 2) == NULL);
  CHECK(qv_result_id(r, 7) == 0);
  CHECK(qv_result_payload(r, 0) && strstr(qv_result_payload(r, 0), "\"even\""));
  CHECK(qv_result_payload(r, 9) == NULL);
  size_t dim = 0;
  const float* v = qv_result_vector(r, 0, NULL, &dim);
  CHECK(v && dim == 4 && v[1] == 1.0f && v[0] == 0.0f);
  CHECK(qv_result_vector(r, 0, "nope", &dim) == NULL && dim == 0);
  CHECK(qv_result_vector(r, 5, NULL, NULL) == NULL);
  CHECK(qv_result_score(r, 0) == 0.0f);
  CHECK(qv_result_next_offset(r, NULL) == 0);
  CHECK(qv_result_json(r) && strstr(qv_result_json(r), "\"id\":2"));
  qv_result_free(r);
  CHECK_RC(qv_collection_get(c, get_ids, 3, 0, &r), QV_OK);
  CHECK(qv_result_payload(r, 0) == NULL && qv_result_vector(r, 0, NULL, NULL) == NULL);
  qv_result_free(r);
  CHECK_RC(qv_collection_get(c, NULL, 2, 0, &r), QV_INVALID_ARGUMENT);
  CHECK(r == NULL);
  CHECK_RC(qv_collection_get(c, get_ids, 1, 0, NULL), QV_MISUSE);
  char* json = NULL;
  CHECK_RC(qv_collection_get_json(c, "{\"ids\": [\"550e8400-e29b-41d4-a716-446655440000\"], \"with_vector\": true}", &json), QV_OK);
  CHECK(json && strstr(json, "550e8400-e29b-41d4-a716-446655440000") && strstr(json, "\"vector\""));
  qv_free(json);
  CHECK_RC(qv_collection_get_json(c, "{\"ids\": [-1]}", &json), QV_INVALID_ARGUMENT);
  CHECK(json == NULL);
  qv_collection_destroy(c);
}

static void test_payloads_and_indexes(qv_database* db) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "a", &c), QV_OK);
  uint64_t changed = 0;
  uint64_t one[1] = {1};
  uint64_t absent[1] = {999};
  CHECK_RC(qv_collection_set_payload(c, one, 1, NULL, "{\"city\": \"Oslo\"}", &changed), QV_OK);
  CHECK(changed == 1);
  CHECK_RC(qv_collection_set_payload(c, absent, 1, NULL, "{\"city\": \"Oslo\"}", &changed), QV_NOT_FOUND);
  CHECK_RC(qv_collection_set_payload(c, one, 1, NULL, "[]", &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_set_payload(c, one, 1, NULL, NULL, &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_set_payload(c, NULL, 0, "{\"must\": [{\"key\": \"tag\", \"match\": {\"value\": \"odd\"}}]}",
                                     "{\"odd\": true}", &changed), QV_OK);
  CHECK(changed == 2);
  CHECK_RC(qv_collection_overwrite_payload(c, one, 1, NULL, "{\"only\": 1}", &changed), QV_OK);
  CHECK_RC(qv_collection_overwrite_payload(c, one, 1, NULL, "{", &changed), QV_INVALID_ARGUMENT);
  qv_result* r = NULL;
  CHECK_RC(qv_collection_get(c, one, 1, QV_WITH_PAYLOAD, &r), QV_OK);
  CHECK(qv_result_count(r) == 1 && strcmp(qv_result_payload(r, 0), "{\"only\":1}") == 0);
  qv_result_free(r);
  const char* keys[1] = {"only"};
  CHECK_RC(qv_collection_delete_payload_keys(c, one, 1, NULL, keys, 1, &changed), QV_OK);
  CHECK_RC(qv_collection_delete_payload_keys(c, one, 1, NULL, NULL, 1, &changed), QV_INVALID_ARGUMENT);
  uint64_t three[1] = {3};
  CHECK_RC(qv_collection_clear_payload(c, three, 1, NULL, &changed), QV_OK);
  CHECK_RC(qv_collection_clear_payload(c, NULL, 0, "{\"must\": [{\"bad\": 1}]}", &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_set_payload_json(c, "{\"payload\": {\"k\": \"v\"}, \"points\": [2]}", &changed), QV_OK);
  CHECK(changed == 1);
  CHECK_RC(qv_collection_set_payload_json(c, "{\"payload\": 3, \"points\": [2]}", &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_overwrite_payload_json(c, "{\"payload\": {\"k\": \"w\"}, \"points\": [2]}", &changed), QV_OK);
  CHECK_RC(qv_collection_overwrite_payload_json(c, "nope", &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_delete_payload_json(c, "{\"keys\": [\"k\"], \"points\": [2]}", &changed), QV_OK);
  CHECK_RC(qv_collection_delete_payload_json(c, "{\"keys\": \"k\", \"points\": [2]}", &changed), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_clear_payload_json(c, "{\"points\": [2]}", &changed), QV_OK);
  CHECK_RC(qv_collection_clear_payload_json(c, "{\"points\": [42]}", &changed), QV_NOT_FOUND);
  CHECK_RC(qv_collection_clear_payload_json(c, NULL, &changed), QV_INVALID_ARGUMENT);

  CHECK_RC(qv_collection_create_payload_index(c, "tag", "keyword"), QV_OK);
  CHECK_RC(qv_collection_create_payload_index(c, "n", "no-such-type"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_create_payload_index(c, NULL, "keyword"), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_create_payload_index_json(c, "{\"field_name\": \"n\", \"field_schema\": \"integer\"}"), QV_OK);
  CHECK_RC(qv_collection_create_payload_index_json(c, "{\"field_schema\": \"integer\"}"), QV_INVALID_ARGUMENT);
  char* json = NULL;
  CHECK_RC(qv_collection_info_json(c, &json), QV_OK);
  CHECK(json && strstr(json, "\"payload_schema\"") && strstr(json, "\"tag\""));
  qv_free(json);
  CHECK_RC(qv_collection_delete_payload_index(c, "n"), QV_OK);
  CHECK_RC(qv_collection_delete_payload_index(c, "n"), QV_NOT_FOUND);
  CHECK_RC(qv_collection_delete_payload_index(c, NULL), QV_INVALID_ARGUMENT);
  qv_collection_destroy(c);
}

static void test_search(qv_database* db) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "a", &c), QV_OK);
  float q[4] = {0.9f, 0.1f, 0, 0};
  qv_result* r = NULL;
  CHECK_RC(qv_collection_search(c, q, 4, 3, 0, NULL, QV_WITH_PAYLOAD, &r), QV_OK);
  CHECK(qv_result_count(r) == 3);
  CHECK(qv_result_id(r, 0) == 1);
  CHECK(qv_result_score(r, 0) >= qv_result_score(r, 1));
  CHECK(qv_result_json(r) && strstr(qv_result_json(r), "\"score\""));
  qv_result_free(r);
  CHECK_RC(qv_collection_search(c, q, 4, 2, 64, "{\"must\": [{\"key\": \"n\", \"match\": {\"value\": 5}}]}",
                                QV_EXACT | QV_WITH_VECTOR, &r), QV_OK);
  CHECK(qv_result_count(r) == 1 && qv_result_id(r, 0) == 5);
  CHECK(qv_result_vector(r, 0, "", NULL) != NULL);
  qv_result_free(r);
  r = (qv_result*)1;
  CHECK_RC(qv_collection_search(c, q, 3, 2, 0, NULL, 0, &r), QV_INVALID_ARGUMENT);
  CHECK(r == NULL);
  CHECK_MSG(qv_collection_errmsg(c), "3");
  CHECK_RC(qv_collection_search(c, q, 4, 2, 0, "{\"must\": [{\"key\": 1}]}", 0, &r), QV_INVALID_ARGUMENT);
  float nan_q[4] = {NAN, 0, 0, 0};
  CHECK_RC(qv_collection_search(c, nan_q, 4, 2, 0, NULL, 0, &r), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_search(c, NULL, 4, 2, 0, NULL, 0, &r), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_search(c, q, 4, 2, 0, NULL, 0, NULL), QV_MISUSE);

  float batch[8] = {1, 0, 0, 0, 0, 0, 0, 1};
  qv_result* rs[2] = {NULL, NULL};
  CHECK_RC(qv_collection_search_batch(c, batch, 2, 4, 1, 0, NULL, 0, rs), QV_OK);
  CHECK(qv_result_count(rs[0]) == 1 && qv_result_id(rs[0], 0) == 1);
  CHECK(qv_result_count(rs[1]) == 1 && qv_result_id(rs[1], 0) == 4);
  qv_result_free(rs[0]);
  qv_result_free(rs[1]);
  float wide[10] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0};
  CHECK_RC(qv_collection_search_batch(c, wide, 2, 5, 1, 0, NULL, 0, rs), QV_INVALID_ARGUMENT);
  CHECK(rs[0] == NULL && rs[1] == NULL);

  char* json = NULL;
  CHECK_RC(qv_collection_search_json(c, "{\"vector\": [0, 0, 1, 0], \"limit\": 1, \"with_payload\": true}", &json), QV_OK);
  CHECK(json && strstr(json, "\"id\":3"));
  qv_free(json);
  CHECK_RC(qv_collection_search_json(c, "{\"vector\": [0, 0, 1, 0], \"limit\": -1}", &json), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "limit");
  CHECK_RC(qv_collection_search_batch_json(c, "{\"searches\": [{\"vector\": [1, 0, 0, 0], \"limit\": 1},"
                                              " {\"vector\": [0, 1, 0, 0], \"limit\": 1}]}", &json), QV_OK);
  CHECK(json && json[0] == '[' && json[1] == '[');
  qv_free(json);
  CHECK_RC(qv_collection_search_batch_json(c, "{\"searches\": 1}", &json), QV_INVALID_ARGUMENT);

  uint64_t pos[1] = {1}, neg[1] = {4}, unknown[1] = {12345};
  CHECK_RC(qv_collection_recommend(c, pos, 1, neg, 1, 2, NULL, 0, &r), QV_OK);
  CHECK(qv_result_count(r) == 2);
  for (size_t i = 0; i < qv_result_count(r); ++i) CHECK(qv_result_id(r, i) != 1);
  qv_result_free(r);
  CHECK_RC(qv_collection_recommend(c, unknown, 1, NULL, 0, 2, NULL, 0, &r), QV_NOT_FOUND);
  CHECK_RC(qv_collection_recommend(c, NULL, 1, NULL, 0, 2, NULL, 0, &r), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_recommend_json(c, "{\"positive\": [2], \"limit\": 1}", &json), QV_OK);
  CHECK(json && strstr(json, "\"score\""));
  qv_free(json);
  CHECK_RC(qv_collection_recommend_json(c, "{\"positive\": \"x\"}", &json), QV_INVALID_ARGUMENT);

  /* Scroll through every page. */
  uint64_t offset = 0, seen = 0;
  const uint64_t* at = NULL;
  for (int page = 0; page < 10; ++page) {
    CHECK_RC(qv_collection_scroll(c, NULL, 2, at, QV_WITH_PAYLOAD, &r), QV_OK);
    seen += qv_result_count(r);
    CHECK(qv_result_json(r) && strstr(qv_result_json(r), "next_page_offset"));
    int more = qv_result_next_offset(r, &offset);
    qv_result_free(r);
    if (!more) break;
    at = &offset;
  }
  CHECK(seen == 6); /* 1..5, then the UUID point, which sorts after the numbers */
  CHECK_RC(qv_collection_scroll(c, "{\"must\": [{\"key\": \"n\", \"match\": {\"value\": 5}}]}", 10, NULL, 0, &r), QV_OK);
  CHECK(qv_result_count(r) == 1);
  qv_result_free(r);
  CHECK_RC(qv_collection_scroll(c, "{", 10, NULL, 0, &r), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_scroll_json(c, "{\"limit\": 100, \"with_payload\": false}", &json), QV_OK);
  CHECK(json && strstr(json, "\"next_page_offset\":null"));
  qv_free(json);
  CHECK_RC(qv_collection_scroll_json(c, "{\"limit\": \"many\"}", &json), QV_INVALID_ARGUMENT);
  qv_collection_destroy(c);
}

static void test_delete_snapshot_stats(qv_database* db) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "a", &c), QV_OK);
  char snap[1200];
  path_in_dir(snap, sizeof(snap), "a.snapshot");
  CHECK_RC(qv_collection_snapshot(c, snap), QV_OK);
  CHECK_RC(qv_collection_snapshot(c, "/nonexistent-folder/x.snapshot"), QV_IO_ERROR);
  CHECK_RC(qv_collection_snapshot(c, NULL), QV_INVALID_ARGUMENT);

  uint64_t deleted = 0;
  uint64_t del_ids[2] = {1, 77};
  CHECK_RC(qv_collection_delete(c, del_ids, 2, &deleted), QV_OK);
  CHECK(deleted == 1);
  CHECK_RC(qv_collection_delete(c, NULL, 2, &deleted), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_delete_by_filter(c, "{\"must\": [{\"key\": \"n\", \"match\": {\"value\": 5}}]}", &deleted), QV_OK);
  CHECK(deleted == 1);
  CHECK_RC(qv_collection_delete_by_filter(c, "{\"must\": [", &deleted), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_delete_by_filter(c, NULL, &deleted), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_collection_delete_json(c, "{\"points\": [2]}", &deleted), QV_OK);
  CHECK(deleted == 1);
  CHECK_RC(qv_collection_delete_json(c, "{\"points\": 2}", &deleted), QV_INVALID_ARGUMENT);
  uint64_t n = 0;
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == 3);

  CHECK_RC(qv_collection_optimize(c), QV_OK);
  char* json = NULL;
  CHECK_RC(qv_collection_stats_json(c, &json), QV_OK);
  CHECK(json && strstr(json, "\"points\":3") && strstr(json, "\"simd\""));
  qv_free(json);
  size_t problems = 99;
  CHECK_RC(qv_collection_verify(c, &problems, &json), QV_OK);
  CHECK(problems == 0 && json && strcmp(json, "[]") == 0);
  qv_free(json);
  CHECK_RC(qv_collection_verify(c, NULL, NULL), QV_OK);

  /* Restore the snapshot (taken with 6 points) under a new name. */
  CHECK_RC(qv_db_restore_snapshot(db, "restored", snap), QV_OK);
  CHECK_RC(qv_db_restore_snapshot(db, "restored", snap), QV_ALREADY_EXISTS);
  CHECK_RC(qv_db_restore_snapshot(db, "other", "/nonexistent/snapshot"), QV_NOT_FOUND);
  char junk[1200];
  path_in_dir(junk, sizeof(junk), "junk.snapshot");
  FILE* f = fopen(junk, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("this is not a snapshot", f);
    fclose(f);
  }
  CHECK_RC(qv_db_restore_snapshot(db, "other", junk), QV_CORRUPTION);
  CHECK(qv_db_collection_exists(db, "other") == 0);
  qv_collection* restored = NULL;
  CHECK_RC(qv_db_collection(db, "restored", &restored), QV_OK);
  CHECK_RC(qv_collection_count(restored, NULL, &n), QV_OK);
  CHECK(n == 6);
  qv_collection_destroy(restored);
  qv_collection_destroy(c);
}

static void test_disk(void) {
  char path[1200];
  path_in_dir(path, sizeof(path), "db");
  qv_options* o = NULL;
  CHECK_RC(qv_options_create(&o), QV_OK);
  CHECK_RC(qv_options_set(o, "durability", "sync"), QV_OK);
  CHECK_RC(qv_options_set(o, "threads", "2"), QV_OK);
  CHECK_RC(qv_options_set(o, "segment_points", "50"), QV_OK);
  qv_database* db = NULL;
  char* err = NULL;
  CHECK_RC(qv_open(path, o, &db, &err), QV_OK);
  CHECK(err == NULL);

  /* A second writer on the same folder is refused. */
  qv_database* second = (qv_database*)1;
  CHECK_RC(qv_open(path, NULL, &second, &err), QV_BUSY);
  CHECK(second == NULL && err != NULL);
  qv_free(err);
  err = NULL;

  CHECK_RC(qv_db_create_collection(db, "d", 8, QV_DISTANCE_EUCLID), QV_OK);
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "d", &c), QV_OK);
  enum { kN = 300 };
  static uint64_t ids[kN];
  static float vectors[kN * 8];
  for (int i = 0; i < kN; ++i) {
    ids[i] = (uint64_t)i;
    for (int j = 0; j < 8; ++j) vectors[i * 8 + j] = (float)((i * 31 + j * 7) % 97) / 97.0f;
  }
  CHECK_RC(qv_collection_upsert(c, "", ids, vectors, kN, 8, NULL), QV_OK);
  CHECK_RC(qv_db_close(db), QV_OK);
  CHECK_RC(qv_db_close(db), QV_FAILED_PRECONDITION);
  CHECK_RC(qv_db_flush(db), QV_FAILED_PRECONDITION);
  CHECK_MSG(qv_db_errmsg(db), "closed");
  qv_collection* after = NULL;
  CHECK_RC(qv_db_collection(db, "d", &after), QV_FAILED_PRECONDITION);
  qv_db_destroy(db);
  /* The collection handle outlives its database: calls fail cleanly. */
  uint64_t n = 0;
  int rc = qv_collection_upsert(c, NULL, ids, vectors, 1, 8, NULL);
  CHECK(rc != QV_OK);
  qv_collection_destroy(c);

  /* Reopen read-only: everything is there; writes fail. */
  CHECK_RC(qv_options_set(o, "read_only", "true"), QV_OK);
  CHECK_RC(qv_open(path, o, &db, NULL), QV_OK);
  CHECK_RC(qv_db_collection(db, "d", &c), QV_OK);
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == kN);
  qv_result* r = NULL;
  CHECK_RC(qv_collection_search(c, &vectors[17 * 8], 8, 1, 0, NULL, 0, &r), QV_OK);
  CHECK(qv_result_count(r) == 1 && qv_result_id(r, 0) == 17);
  qv_result_free(r);
  size_t problems = 1;
  CHECK_RC(qv_collection_verify(c, &problems, NULL), QV_OK);
  CHECK(problems == 0);
  CHECK_RC(qv_collection_upsert(c, NULL, ids, vectors, 1, 8, NULL), QV_FAILED_PRECONDITION);
  CHECK_RC(qv_db_create_collection(db, "e", 2, QV_DISTANCE_DOT), QV_FAILED_PRECONDITION);
  qv_collection_destroy(c);
  qv_db_destroy(db); /* destroy without close */
  qv_options_destroy(o);

  /* A file where the folder should be. */
  char file_path[1200];
  path_in_dir(file_path, sizeof(file_path), "a.snapshot");
  CHECK(qv_open(file_path, NULL, &db, &err) != QV_OK);
  CHECK(db == NULL && err != NULL);
  qv_free(err);
}

/* Damage stays with its collection (docs/reliability.md, "Damage and repair"): a byte flipped in the middle of
 * one of collection d's segment files leaves the database openable and collection e working; d answers
 * QV_CORRUPTION naming the file until qv_db_repair_json brings it back. */
static void test_damage_and_repair(void) {
  char path[1200];
  path_in_dir(path, sizeof(path), "damaged");
  qv_options* o = NULL;
  CHECK_RC(qv_options_create(&o), QV_OK);
  CHECK_RC(qv_options_set(o, "segment_points", "50"), QV_OK);
  qv_database* db = NULL;
  CHECK_RC(qv_open(path, o, &db, NULL), QV_OK);
  CHECK_RC(qv_db_create_collection(db, "d", 8, QV_DISTANCE_EUCLID), QV_OK);
  CHECK_RC(qv_db_create_collection(db, "e", 8, QV_DISTANCE_EUCLID), QV_OK);
  enum { kN = 120 };
  static uint64_t ids[kN];
  static float vectors[kN * 8];
  for (int i = 0; i < kN; ++i) {
    ids[i] = (uint64_t)i;
    for (int j = 0; j < 8; ++j) vectors[i * 8 + j] = (float)((i * 31 + j * 7) % 97) / 97.0f + (float)i / 1000.0f;
  }
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "d", &c), QV_OK);
  CHECK_RC(qv_collection_upsert(c, "", ids, vectors, kN, 8, NULL), QV_OK);
  CHECK_RC(qv_collection_optimize(c), QV_OK);
  qv_collection_destroy(c);
  CHECK_RC(qv_db_collection(db, "e", &c), QV_OK);
  CHECK_RC(qv_collection_upsert(c, "", ids, vectors, kN, 8, NULL), QV_OK);
  qv_collection_destroy(c);
  CHECK_RC(qv_db_close(db), QV_OK);
  qv_db_destroy(db);

  /* d is collection 1: its one segment file after the merge is the largest seg-1-*.qvs. */
  char victim[1600] = "";
  long largest = 0;
  DIR* dir = opendir(path);
  CHECK(dir != NULL);
  for (struct dirent* e = dir ? readdir(dir) : NULL; e; e = readdir(dir)) {
    if (strncmp(e->d_name, "seg-1-", 6) != 0) continue;
    char p[1600];
    snprintf(p, sizeof(p), "%s/%.255s", path, e->d_name);
    struct stat st;
    if (stat(p, &st) == 0 && st.st_size > largest) {
      largest = (long)st.st_size;
      snprintf(victim, sizeof(victim), "%s", p);
    }
  }
  if (dir) closedir(dir);
  CHECK(largest > 0);
  FILE* f = fopen(victim, "r+b");
  CHECK(f != NULL);
  if (f) {
    fseek(f, largest / 2, SEEK_SET);
    int byte = fgetc(f);
    fseek(f, largest / 2, SEEK_SET);
    fputc(byte ^ 0x5a, f);
    fclose(f);
  }

  CHECK_RC(qv_open(path, o, &db, NULL), QV_OK);
  CHECK_RC(qv_db_collection(db, "d", &c), QV_CORRUPTION);
  CHECK_MSG(qv_db_errmsg(db), "collection 'd' is unavailable");
  CHECK_MSG(qv_db_errmsg(db), strrchr(victim, '/') + 1);
  char* list = NULL;
  CHECK_RC(qv_db_list_collections_json(db, &list), QV_OK);
  CHECK_MSG(list, "\"d\"");
  qv_free(list);
  uint64_t n = 0;
  CHECK_RC(qv_db_collection(db, "e", &c), QV_OK);
  CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
  CHECK(n == kN);
  qv_collection_destroy(c);

  char* report = NULL;
  CHECK_RC(qv_db_repair_json(db, "d", &report), QV_OK);
  CHECK_MSG(report, "\"collection\":\"d\"");
  CHECK_MSG(report, strrchr(victim, '/') + 1);
  qv_free(report);
  CHECK_RC(qv_db_collection(db, "d", &c), QV_OK);
  size_t problems = 1;
  CHECK_RC(qv_collection_verify(c, &problems, NULL), QV_OK);
  CHECK(problems == 0);
  qv_collection_destroy(c);
  /* A healthy collection: nothing to do; an unknown one: not found. */
  CHECK_RC(qv_db_repair_json(db, "e", &report), QV_OK);
  CHECK_MSG(report, "\"rebuilt\":[],\"lost\":[]");
  qv_free(report);
  CHECK_RC(qv_db_repair_json(db, "nope", &report), QV_NOT_FOUND);
  CHECK(report == NULL);
  CHECK_RC(qv_db_repair_json(db, NULL, &report), QV_INVALID_ARGUMENT);
  qv_db_destroy(db);
  qv_options_destroy(o);
}

/* Issue 13: with "threads" "1" the first upsert after each segment seal failed with "unexpected exception:
 * Resource deadlock avoided" (the merge ran inside the writer, under its lock). Upserts of 50 across six
 * seals of 500 points, with 0, 1 and 2 threads; then the data is checked, and again after reopening. */
static float seal_vector_value(size_t i, size_t j) {
  return (float)((i * 31 + j * 17) % 101) / 101.0f + (j == i % 16 ? 1.0f : 0.0f) +
         (j == 0 ? (float)i / 1000.0f : 0);
}

static void test_threads_across_seals(void) {
  const char* thread_counts[] = {"0", "1", "2"};
  enum { kDim = 16, kPoints = 3000, kBatch = 50 };
  for (size_t t = 0; t < 3; ++t) {
    char name[64], path[1200];
    snprintf(name, sizeof(name), "seals-threads-%s", thread_counts[t]);
    path_in_dir(path, sizeof(path), name);
    qv_options* o = NULL;
    CHECK_RC(qv_options_create(&o), QV_OK);
    CHECK_RC(qv_options_set(o, "threads", thread_counts[t]), QV_OK);
    CHECK_RC(qv_options_set(o, "segment_points", "500"), QV_OK);
    CHECK_RC(qv_options_set(o, "durability", "sync"), QV_OK);
    qv_database* db = NULL;
    CHECK_RC(qv_open(path, o, &db, NULL), QV_OK);
    if (!db) {
      qv_options_destroy(o);
      continue;
    }
    CHECK_RC(qv_db_create_collection(db, "c", kDim, QV_DISTANCE_EUCLID), QV_OK);
    qv_collection* c = NULL;
    CHECK_RC(qv_db_collection(db, "c", &c), QV_OK);
    uint64_t ids[kBatch];
    float vectors[kBatch * kDim];
    int failed_batches = 0;
    for (size_t first = 0; first < kPoints; first += kBatch) {
      for (size_t i = 0; i < kBatch; ++i) {
        ids[i] = first + i;
        for (size_t j = 0; j < kDim; ++j) vectors[i * kDim + j] = seal_vector_value(first + i, j);
      }
      int rc = qv_collection_upsert(c, NULL, ids, vectors, kBatch, kDim, NULL);
      if (rc != QV_OK) {
        if (failed_batches++ == 0) {
          fprintf(stderr, "threads %s: upsert of ids %zu.. failed: %s\n", thread_counts[t], first,
                  qv_collection_errmsg(c));
        }
      }
    }
    CHECK(failed_batches == 0);
    /* Checked now, and after reopening. */
    for (int round = 0; round < 2; ++round) {
      uint64_t n = 0;
      CHECK_RC(qv_collection_count(c, NULL, &n), QV_OK);
      CHECK(n == kPoints);
      const size_t probes[] = {0, 499, 500, 1777, 2999};
      for (size_t p = 0; p < 5; ++p) {
        float q[kDim];
        for (size_t j = 0; j < kDim; ++j) q[j] = seal_vector_value(probes[p], j);
        qv_result* r = NULL;
        CHECK_RC(qv_collection_search(c, q, kDim, 1, 0, NULL, 0, &r), QV_OK);
        CHECK(r && qv_result_count(r) == 1 && qv_result_id(r, 0) == probes[p]);
        qv_result_free(r);
      }
      size_t problems = 1;
      CHECK_RC(qv_collection_verify(c, &problems, NULL), QV_OK);
      CHECK(problems == 0);
      qv_collection_destroy(c);
      c = NULL;
      CHECK_RC(qv_db_close(db), QV_OK);
      qv_db_destroy(db);
      db = NULL;
      if (round == 1) break;
      CHECK_RC(qv_open(path, o, &db, NULL), QV_OK);
      if (!db) break;
      CHECK_RC(qv_db_collection(db, "c", &c), QV_OK);
      if (!c) {
        qv_db_destroy(db);
        break;
      }
    }
    qv_options_destroy(o);
  }
}

/* A quantized collection: the config is validated and reported, searches walk the codes (rescored, or not), and
 * params.quantization.ignore walks the floats. */
static void test_quantization(qv_database* db) {
  CHECK_RC(qv_db_create_collection_json(db, "sq", "{\"vectors\": {\"size\": 8, \"distance\": \"Euclid\"}, "
                                                 "\"quantization_config\": {\"scalar\": {\"type\": \"int4\"}}}"),
           QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_db_errmsg(db), "quantization_config.scalar.type");
  CHECK_RC(qv_db_create_collection_json(db, "sq", "{\"vectors\": {\"size\": 8, \"distance\": \"Euclid\"}, "
                                                 "\"hnsw_config\": {\"full_scan_threshold\": 0}, "
                                                 "\"quantization_config\": {\"scalar\": {\"type\": \"int8\", "
                                                 "\"quantile\": 0.99}}}"),
           QV_OK);
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "sq", &c), QV_OK);
  enum { kN = 1500, kDim = 8 };
  uint64_t* ids = malloc(sizeof(uint64_t) * kN);
  float* vectors = malloc(sizeof(float) * kN * kDim);
  unsigned state = 12345u;
  for (size_t i = 0; i < kN; ++i) {
    ids[i] = i + 1;
    for (size_t j = 0; j < kDim; ++j) {
      state = state * 1664525u + 1013904223u;
      vectors[i * kDim + j] = (float)(state >> 8) / 16777216.0f;
    }
  }
  CHECK_RC(qv_collection_upsert(c, "", ids, vectors, kN, kDim, NULL), QV_OK);
  CHECK_RC(qv_collection_optimize(c), QV_OK);
  char* json = NULL;
  CHECK_RC(qv_collection_info_json(c, &json), QV_OK);
  CHECK(json && strstr(json, "\"quantization_config\":{\"scalar\":{\"type\":\"int8\""));
  qv_free(json);
  /* The point itself is the nearest, through the codes and through the floats. */
  char body[512];
  int at = snprintf(body, sizeof(body), "{\"vector\": [");
  for (size_t j = 0; j < kDim; ++j) at += snprintf(body + at, sizeof(body) - at, "%s%.9g", j ? "," : "", vectors[700 * kDim + j]);
  const char* variants[] = {"", ", \"params\": {\"quantization\": {\"rescore\": false, \"oversampling\": 3}}",
                            ", \"params\": {\"quantization\": {\"ignore\": true}}"};
  for (size_t v = 0; v < 3; ++v) {
    char full[768];
    snprintf(full, sizeof(full), "%s], \"limit\": 3%s}", body, variants[v]);
    CHECK_RC(qv_collection_search_json(c, full, &json), QV_OK);
    CHECK(json && strncmp(json, "[{\"id\":701,", 11) == 0);
    qv_free(json);
  }
  char bad[768];
  snprintf(bad, sizeof(bad), "%s], \"params\": {\"quantization\": {\"oversampling\": 0.5}}}", body);
  CHECK_RC(qv_collection_search_json(c, bad, &json), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "params.quantization.oversampling");
  free(ids);
  free(vectors);
  qv_collection_destroy(c);
  CHECK_RC(qv_db_drop_collection(db, "sq"), QV_OK);
}

/* Sparse vectors and BM25 documents through qv_db_request and the *_json functions. */
static void test_sparse(qv_database* db) {
  char* json = NULL;
  CHECK_RC(qv_db_request(db, "create_collection", "sp", NULL,
                         "{\"vectors\": {\"dense\": {\"size\": 2, \"distance\": \"Dot\"}}, "
                         "\"sparse_vectors\": {\"bm25\": {\"modifier\": \"idf\"}, \"raw\": {}}}",
                         &json),
           QV_OK);
  qv_free(json);
  CHECK_RC(qv_db_request(db, "get_collection", "sp", NULL, NULL, &json), QV_OK);
  CHECK(json && strstr(json, "\"sparse_vectors\":{\"bm25\":{\"modifier\":\"idf\"},\"raw\":{}}"));
  qv_free(json);
  CHECK_RC(qv_db_request(db, "upsert_points", "sp", NULL,
                         "{\"points\": [{\"id\": 1, \"vector\": {\"raw\": {\"indices\": [9, 4], \"values\": [1, 2]}, "
                         "\"bm25\": {\"text\": \"Vector databases store vectors\", \"model\": \"qdrant/bm25\"}}}, "
                         "{\"id\": 2, \"vector\": {\"dense\": [1, 0], \"bm25\": {\"text\": \"Keyword search without a model\", "
                         "\"model\": \"qdrant/bm25\"}}}]}",
                         &json),
           QV_OK);
  qv_free(json);
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "sp", &c), QV_OK);
  CHECK_RC(qv_collection_get_json(c, "{\"ids\": [1], \"with_vector\": [\"raw\"], \"with_payload\": false}", &json), QV_OK);
  CHECK(json && strcmp(json, "[{\"id\":1,\"vector\":{\"raw\":{\"indices\":[4,9],\"values\":[2,1]}}}]") == 0);
  qv_free(json);
  CHECK_RC(qv_collection_search_json(
               c, "{\"vector\": {\"name\": \"raw\", \"vector\": {\"indices\": [4], \"values\": [0.5]}}}", &json),
           QV_OK);
  const char* want = "[{\"id\":1,\"version\":0,\"score\":1}";
  CHECK(json && strncmp(json, want, strlen(want)) == 0);
  qv_free(json);
  /* A document query: "searching" stems to "search", found in point 2 only. */
  CHECK_RC(qv_db_request(db, "search_points", "sp", NULL,
                         "{\"vector\": {\"name\": \"bm25\", \"vector\": {\"text\": \"searching\", \"model\": \"qdrant/bm25\"}}}",
                         &json),
           QV_OK);
  CHECK(json && strncmp(json, "[{\"id\":2,", 8) == 0 && !strstr(json, "\"id\":1"));
  qv_free(json);
  CHECK_RC(qv_db_request(db, "upsert_points", "sp", NULL,
                         "{\"points\": [{\"id\": 3, \"vector\": {\"raw\": {\"indices\": [1, 1], \"values\": [1, 2]}}}]}",
                         &json),
           QV_INVALID_ARGUMENT);
  CHECK(json == NULL);
  CHECK_MSG(qv_db_errmsg(db), "upsert.points[0].vector.raw: duplicate index 1");
  CHECK_RC(qv_collection_upsert_json(c, "{\"points\": [{\"id\": 3, \"vector\": {\"dense\": {\"indices\": [1], \"values\": [1]}}}]}"),
           QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "vector 'dense' of collection sp is dense");
  uint64_t n = 0;
  CHECK_RC(qv_collection_count_json(c, "{}", &n), QV_OK);
  CHECK(n == 2);
  qv_collection_destroy(c);
  /* The Query API on sparse vectors: a sparse nearest, and a BM25 document fused with it. */
  CHECK_RC(qv_db_request(db, "query_points", "sp", NULL,
                         "{\"query\": {\"indices\": [4], \"values\": [0.5]}, \"using\": \"raw\"}", &json),
           QV_OK);
  CHECK(json && strcmp(json, "{\"points\":[{\"id\":1,\"version\":0,\"score\":1}]}") == 0);
  qv_free(json);
  CHECK_RC(qv_db_request(db, "query_points", "sp", NULL,
                         "{\"prefetch\": [{\"query\": {\"indices\": [4], \"values\": [0.5]}, \"using\": \"raw\"}, "
                         "{\"query\": {\"text\": \"searching\", \"model\": \"qdrant/bm25\"}, \"using\": \"bm25\"}], "
                         "\"query\": {\"fusion\": \"rrf\"}}",
                         &json),
           QV_OK);
  /* Each first in its list: RRF 1/2 each, the tie to the smaller id. */
  CHECK(json && strcmp(json, "{\"points\":[{\"id\":1,\"version\":0,\"score\":0.5},{\"id\":2,\"version\":0,\"score\":0.5}]}") == 0);
  qv_free(json);
  CHECK_RC(qv_db_drop_collection(db, "sp"), QV_OK);
}

/* The Query API from C: results checked against lists computed here (brute-force dot products, RRF). */
static const float kQueryPoints[6][2] = {{1, 0}, {0.9f, 0.1f}, {0.5f, 0.5f}, {0.1f, 0.9f}, {0, 1}, {-1, 0}};
static const double kQueryPrice[6] = {5, 1, 3, 4, 2, 6};

/* Ids (1-based) of the `limit` points with the largest dot product with q among those with price >= min_price. */
static size_t dot_list(const float* q, double min_price, size_t limit, uint64_t* out) {
  size_t n = 0;
  uint64_t ids[6];
  double scores[6];
  for (size_t i = 0; i < 6; ++i) {
    if (kQueryPrice[i] < min_price) continue;
    ids[n] = i + 1;
    scores[n] = (double)q[0] * kQueryPoints[i][0] + (double)q[1] * kQueryPoints[i][1];
    ++n;
  }
  for (size_t i = 0; i < n; ++i) { /* selection sort: score desc, id asc */
    for (size_t j = i + 1; j < n; ++j) {
      if (scores[j] > scores[i] || (scores[j] == scores[i] && ids[j] < ids[i])) {
        double s = scores[i]; scores[i] = scores[j]; scores[j] = s;
        uint64_t t = ids[i]; ids[i] = ids[j]; ids[j] = t;
      }
    }
  }
  if (n > limit) n = limit;
  memcpy(out, ids, n * sizeof(uint64_t));
  return n;
}

/* The ids of {"points":[{"id":N,...},...]} in order. */
static size_t json_ids(const char* json, uint64_t* out, size_t max) {
  size_t n = 0;
  const char* at = json;
  while (n < max && (at = strstr(at, "{\"id\":")) != NULL) {
    at += 6;
    out[n++] = strtoull(at, NULL, 10);
  }
  return n;
}

static void test_query(qv_database* db) {
  char* json = NULL;
  CHECK_RC(qv_db_create_collection_json(db, "q", "{\"vectors\": {\"d\": {\"size\": 2, \"distance\": \"Dot\"}}}"), QV_OK);
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "q", &c), QV_OK);
  char body[2048];
  int at = snprintf(body, sizeof(body), "{\"points\": [");
  for (size_t i = 0; i < 6; ++i) {
    at += snprintf(body + at, sizeof(body) - at, "%s{\"id\": %zu, \"vector\": {\"d\": [%g, %g]}, \"payload\": {\"p\": %g, \"g\": \"%c\"}}",
                   i ? "," : "", i + 1, kQueryPoints[i][0], kQueryPoints[i][1], kQueryPrice[i], "aabbcc"[i]);
  }
  snprintf(body + at, sizeof(body) - at, "]}");
  CHECK_RC(qv_collection_upsert_json(c, body), QV_OK);

  const float qa[2] = {1, 0.2f}, qb[2] = {0, 1};
  uint64_t want[6], got[6];
  size_t nw = dot_list(qa, 0, 4, want);
  CHECK_RC(qv_collection_query_json(c, "{\"query\": [1, 0.2], \"using\": \"d\", \"limit\": 4}", &json), QV_OK);
  CHECK(json && strncmp(json, "{\"points\":[", 11) == 0);
  CHECK(json && json_ids(json, got, 6) == nw && memcmp(got, want, nw * sizeof(uint64_t)) == 0);
  qv_free(json);

  /* RRF (k = 2) of two prefetches: 1 / (position + 2) summed, ties by id. */
  uint64_t la[3], lb[3];
  size_t na = dot_list(qa, 0, 3, la), nb = dot_list(qb, 2, 3, lb);
  uint64_t ids[6];
  double score[6];
  size_t n = 0;
  for (size_t l = 0; l < 2; ++l) {
    const uint64_t* list = l ? lb : la;
    for (size_t p = 0; p < (l ? nb : na); ++p) {
      size_t k = 0;
      while (k < n && ids[k] != list[p]) ++k;
      if (k == n) { ids[n] = list[p]; score[n++] = 0; }
      score[k] += 1.0 / (double)(p + 2);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (score[j] > score[i] + 1e-9 || (fabs(score[j] - score[i]) <= 1e-9 && ids[j] < ids[i])) {
        double s = score[i]; score[i] = score[j]; score[j] = s;
        uint64_t t = ids[i]; ids[i] = ids[j]; ids[j] = t;
      }
    }
  }
  CHECK_RC(qv_collection_query_json(c,
           "{\"prefetch\": [{\"query\": [1, 0.2], \"using\": \"d\", \"limit\": 3},"
           " {\"query\": [0, 1], \"using\": \"d\", \"limit\": 3, \"filter\": {\"must\": [{\"key\": \"p\", \"range\": {\"gte\": 2}}]}}],"
           " \"query\": {\"fusion\": \"rrf\"}}", &json), QV_OK);
  CHECK(json && json_ids(json, got, 6) == n && memcmp(got, ids, n * sizeof(uint64_t)) == 0);
  qv_free(json);

  /* order_by, and the value each point was ordered by. */
  CHECK_RC(qv_collection_query_json(c, "{\"query\": {\"order_by\": {\"key\": \"p\", \"direction\": \"desc\"}}, \"limit\": 3}", &json), QV_OK);
  CHECK(json && json_ids(json, got, 6) == 3 && got[0] == 6 && got[1] == 1 && got[2] == 4);
  CHECK(json && strstr(json, "\"order_value\":6"));
  qv_free(json);

  CHECK_RC(qv_collection_query_batch_json(c, "{\"searches\": [{\"limit\": 1}, {\"query\": 1, \"using\": \"d\", \"limit\": 1}]}", &json), QV_OK);
  /* The second finds the point nearest to point 1 other than point 1 itself. */
  CHECK(json && strcmp(json, "[{\"points\":[{\"id\":1,\"version\":0,\"score\":1}]},{\"points\":[{\"id\":2,\"version\":0,\"score\":0.9}]}]") == 0);
  qv_free(json);

  CHECK_RC(qv_collection_query_groups_json(c, "{\"query\": [1, 0.2], \"using\": \"d\", \"group_by\": \"g\", \"group_size\": 1, \"limit\": 2}", &json), QV_OK);
  CHECK(json && strncmp(json, "{\"groups\":[{\"id\":\"a\",\"hits\":[{\"id\":1,\"version\":0,\"score\":1}]},"
                              "{\"id\":\"b\",\"hits\":[{\"id\":3,", 88) == 0);
  qv_free(json);

  /* Errors name the part; another collection needs the database handle. */
  CHECK_RC(qv_collection_query_json(c, "{\"query\": {\"fusion\": \"rrf\"}}", &json), QV_INVALID_ARGUMENT);
  CHECK(json == NULL);
  CHECK_MSG(qv_collection_errmsg(c), "query.query: a fusion needs prefetches");
  CHECK_RC(qv_collection_query_json(c, "{\"query\": [1, 0], \"using\": \"nope\"}", &json), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "query.using: collection q has no vector named 'nope'");
  CHECK_RC(qv_collection_query_json(c, "{\"query\": {\"indices\": [1], \"values\": [1]}, \"using\": \"d\"}", &json), QV_INVALID_ARGUMENT);
  CHECK_MSG(qv_collection_errmsg(c), "query.query: vector 'd' of collection q is dense; a sparse vector is not its kind");
  CHECK_RC(qv_collection_query_groups_json(c, "{\"group_by\": \"g\", \"with_lookup\": \"q2\"}", &json), QV_FAILED_PRECONDITION);
  CHECK_MSG(qv_collection_errmsg(c), "with_lookup.collection");
  CHECK_RC(qv_collection_query_json(NULL, "{}", &json), QV_MISUSE);
  CHECK_RC(qv_collection_query_json(c, "{}", NULL), QV_MISUSE);

  CHECK_RC(qv_db_create_collection_json(db, "q2", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"), QV_OK);
  CHECK_RC(qv_db_request(db, "upsert_points", "q2", NULL, "{\"points\": [{\"id\": 1, \"vector\": [-1, 0], \"payload\": {\"name\": \"one\"}}]}", NULL), QV_OK);
  CHECK_RC(qv_db_request(db, "query_points_groups", "q", NULL,
                         "{\"query\": {\"order_by\": \"p\"}, \"group_by\": \"p\", \"group_size\": 1, \"limit\": 1, \"with_lookup\": \"q2\"}", &json), QV_OK);
  CHECK(json && strcmp(json, "{\"groups\":[{\"id\":1,\"hits\":[{\"id\":2,\"version\":0,\"score\":1,\"order_value\":1}],"
                             "\"lookup\":{\"id\":1,\"payload\":{\"name\":\"one\"}}}]}") == 0);
  qv_free(json);
  CHECK_RC(qv_db_request(db, "query_points", "q", NULL,
                         "{\"query\": 1, \"using\": \"d\", \"lookup_from\": {\"collection\": \"q2\", \"vector\": \"\"}, \"limit\": 1}", &json), QV_OK);
  /* [-1, 0] from q2's point 1: q's point 6. */
  CHECK(json && strncmp(json, "{\"points\":[{\"id\":6,", 19) == 0);
  qv_free(json);
  qv_collection_destroy(c);
  CHECK_RC(qv_db_drop_collection(db, "q"), QV_OK);
  CHECK_RC(qv_db_drop_collection(db, "q2"), QV_OK);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s TMPDIR\n", argv[0]);
    return 2;
  }
  snprintf(dir_path, sizeof(dir_path), "%s", argv[1]);
  test_versions_and_codes();
  test_options();
  test_null_safety();

  qv_database* db = NULL;
  char* err = NULL;
  CHECK_RC(qv_open(NULL, NULL, &db, &err), QV_OK);
  test_collections_and_aliases(db);
  test_points(db);
  test_payloads_and_indexes(db);
  test_search(db);
  test_quantization(db);
  test_sparse(db);
  test_query(db);
  test_delete_snapshot_stats(db);
  qv_db_destroy(db);

  test_disk();
  test_damage_and_repair();
  test_threads_across_seals();

  printf("c_api_test: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
