/* A small program built against an installed Quiver (pkg-config and find_package): creates a collection in
 * memory, upserts, searches, and prints the nearest id. */
#include <stdio.h>

#include <quiver.h>

int main(void) {
  qv_database* db = NULL;
  char* err = NULL;
  if (qv_open(NULL, NULL, &db, &err) != QV_OK) {
    fprintf(stderr, "open: %s\n", err ? err : "?");
    qv_free(err);
    return 1;
  }
  qv_collection* c = NULL;
  uint64_t ids[3] = {7, 8, 9};
  float vectors[6] = {1, 0, 0, 1, 0.7f, 0.7f};
  qv_result* r = NULL;
  int rc = qv_db_create_collection(db, "example", 2, QV_DISTANCE_COSINE);
  if (rc == QV_OK) rc = qv_db_collection(db, "example", &c);
  if (rc == QV_OK) rc = qv_collection_upsert(c, NULL, ids, vectors, 3, 2, NULL);
  float query[2] = {0.1f, 1.0f};
  if (rc == QV_OK) rc = qv_collection_search(c, query, 2, 1, 0, NULL, 0, &r);
  if (rc != QV_OK) {
    fprintf(stderr, "error %d: %s %s\n", rc, qv_db_errmsg(db), qv_collection_errmsg(c));
  } else {
    printf("quiver %s: nearest id %llu\n", qv_version(), (unsigned long long)qv_result_id(r, 0));
    if (qv_result_id(r, 0) != 8) rc = QV_INTERNAL;
  }
  qv_result_free(r);
  qv_collection_destroy(c);
  qv_db_destroy(db);
  return rc == QV_OK ? 0 : 1;
}
