/* The C API's sync (qv_sync_*) tested from C against a real quiverd on a loopback port: two databases on disk
 * converge through it (points, payload keys edited concurrently, a delete); a wrong key, a token callback that
 * has no token and bad options give clear errors; a token refreshed after 401; a push to a collection deleted on
 * the server reaches the conflict callback and the recorded conflicts; https with a certificate made at test
 * time by the openssl command; an interrupt ends a live round's long-poll.
 *
 * usage: c_api_sync_test QUIVERD TMPDIR */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "quiver.h"

/* Checks run on the main thread and on the helper threads of test_tls_and_interrupt: the counters are
 * guarded. */
static pthread_mutex_t checks_mu = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0;
static int checks = 0;

/* Counts one check; returns `ok`. */
static int note_check(int ok) {
  pthread_mutex_lock(&checks_mu);
  ++checks;
  if (!ok) ++failures;
  pthread_mutex_unlock(&checks_mu);
  return ok;
}

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!note_check((cond) ? 1 : 0)) {                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_RC(expr, want)                                                                            \
  do {                                                                                                  \
    int rc_ = (expr);                                                                                   \
    if (!note_check(rc_ == (want))) {                                                                   \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, #expr, rc_, \
              qv_status_name(rc_), (want), qv_status_name(want));                                       \
    }                                                                                                   \
  } while (0)

static void check_contains(const char* text, const char* part, int line) {
  if (!note_check(text && strstr(text, part))) {
    fprintf(stderr, "c_api_sync_test.c:%d: '%s' lacks '%s'\n", line, text ? text : "(null)", part);
  }
}
#define CHECK_CONTAINS(text, part) check_contains((text), (part), __LINE__)

static const char* quiverd_binary;
static char tmp[1024];

/* quiverd in a child process, on an ephemeral port read from its "listening" line. */
typedef struct {
  pid_t pid;
  int port;
  FILE* out;
} server;

static int start_server(server* s, const char* data, const char* const* extra) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  s->pid = fork();
  if (s->pid < 0) return -1;
  if (s->pid == 0) {
    const char* argv[32] = {quiverd_binary, "--data", data, "--port", "0", "--log-requests=false"};
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 31; ++i) argv[n++] = extra[i];
    argv[n] = NULL;
    /* Dies with the test: a test that stops early (a failed check, a sanitizer report) leaves no server behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(quiverd_binary, (char* const*)argv);
    _exit(127);
  }
  close(fds[1]);
  s->out = fdopen(fds[0], "r");
  char line[4096];
  while (fgets(line, sizeof line, s->out)) {
    const char* p = strstr(line, "\"port\":");
    if (strstr(line, "\"listening\"") && p) {
      s->port = atoi(p + 7);
      return 0;
    }
  }
  return -1;
}

static void stop_server(server* s) {
  if (s->pid <= 0) return;
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  fclose(s->out);
  s->pid = 0;
}

static qv_database* open_db(const char* name) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", tmp, name);
  qv_database* db = NULL;
  char* err = NULL;
  int rc = qv_open(path, NULL, &db, &err);
  if (rc != QV_OK) fprintf(stderr, "qv_open %s: %s\n", path, err ? err : "");
  qv_free(err);
  CHECK_RC(qv_db_create_collection_json(db, "docs", "{\"vectors\": {\"size\": 3, \"distance\": \"Euclid\"}}"),
           QV_OK);
  return db;
}

static uint64_t count(qv_database* db) {
  qv_collection* c = NULL;
  uint64_t n = 0;
  if (qv_db_collection(db, "docs", &c) == QV_OK) qv_collection_count(c, NULL, &n);
  qv_collection_destroy(c);
  return n;
}

/* The payload JSON of point `id` ("<none>" if absent) in a static buffer. */
static const char* payload(qv_database* db, uint64_t id) {
  static char buf[1024];
  qv_collection* c = NULL;
  qv_result* r = NULL;
  snprintf(buf, sizeof buf, "<none>");
  if (qv_db_collection(db, "docs", &c) == QV_OK && qv_collection_get(c, &id, 1, QV_WITH_PAYLOAD, &r) == QV_OK &&
      qv_result_count(r) == 1) {
    snprintf(buf, sizeof buf, "%s", qv_result_payload(r, 0));
  }
  qv_result_free(r);
  qv_collection_destroy(c);
  return buf;
}

static void write_points(qv_database* db, uint64_t first, size_t n, const char* tag) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "docs", &c), QV_OK);
  uint64_t ids[64];
  float vectors[64 * 3];
  char texts[64][64];
  const char* payloads[64];
  for (size_t i = 0; i < n && i < 64; ++i) {
    ids[i] = first + i;
    vectors[i * 3] = (float)(first + i);
    vectors[i * 3 + 1] = 1;
    vectors[i * 3 + 2] = 2;
    snprintf(texts[i], sizeof texts[i], "{\"n\":%llu,\"tag\":\"%s\"}", (unsigned long long)(first + i), tag);
    payloads[i] = texts[i];
  }
  CHECK_RC(qv_collection_upsert(c, NULL, ids, vectors, n, 3, payloads), QV_OK);
  qv_collection_destroy(c);
}

static void set_payload(qv_database* db, uint64_t id, const char* json) {
  qv_collection* c = NULL;
  CHECK_RC(qv_db_collection(db, "docs", &c), QV_OK);
  CHECK_RC(qv_collection_set_payload(c, &id, 1, NULL, json, NULL), QV_OK);
  qv_collection_destroy(c);
}

/* Token callbacks: "secret", with how often and how each was asked. */
typedef struct {
  int calls;
  int refreshes;
  const char* first;  /* answered when refresh = 0 */
  const char* second; /* answered when refresh = 1 */
} token_source;

static const char* token_cb(void* user, int refresh) {
  token_source* t = (token_source*)user;
  ++t->calls;
  if (refresh) ++t->refreshes;
  return refresh ? t->second : t->first;
}

/* Conflict callback: records the last conflict JSON, answers `answer`. */
typedef struct {
  int calls;
  int answer;
  char last[4096];
} conflict_sink;

static int conflict_cb(void* user, const char* json) {
  conflict_sink* s = (conflict_sink*)user;
  ++s->calls;
  snprintf(s->last, sizeof s->last, "%s", json);
  return s->answer;
}

static qv_sync* open_sync(qv_database* db, const char* url, const char* options) {
  qv_sync* s = NULL;
  int rc = qv_sync_open(db, url, options, &s);
  if (rc != QV_OK) fprintf(stderr, "qv_sync_open: %s\n", qv_db_errmsg(db));
  CHECK_RC(rc, QV_OK);
  return s;
}

static int run(qv_sync* s) {
  int rc = qv_sync_run(s);
  if (rc != QV_OK) fprintf(stderr, "  (qv_sync_run: %s: %s)\n", qv_status_name(rc), qv_sync_errmsg(s));
  return rc;
}

/* A shell command's first output line into buf (for curl and openssl). */
static int shell(const char* cmd, char* buf, size_t n) {
  FILE* p = popen(cmd, "r");
  if (!p) return -1;
  buf[0] = '\0';
  if (!fgets(buf, (int)n, p)) buf[0] = '\0';
  return pclose(p);
}

static void test_converge_and_errors(void) {
  char data[1200], url[128];
  snprintf(data, sizeof data, "%s/server", tmp);
  const char* args[] = {"--api-key", "secret", NULL};
  server srv;
  CHECK(start_server(&srv, data, args) == 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);

  qv_database* a = open_db("a");
  qv_database* b = open_db("b");
  write_points(a, 0, 50, "a");

  /* A by API key, B by a token callback. */
  qv_sync* sa = open_sync(a, url, "{\"collections\": [\"docs\"], \"api_key\": \"secret\"}");
  qv_sync* sb = open_sync(b, url, "{\"client\": \"c_api_sync_test\"}"); /* every collection */
  token_source tb = {0, 0, "secret", "secret"};
  CHECK_RC(qv_sync_set_token_callback(sb, token_cb, &tb), QV_OK);
  CHECK_RC(run(sa), QV_OK);
  CHECK_RC(run(sb), QV_OK);
  CHECK(count(b) == 50);
  CHECK(strcmp(payload(b, 42), "{\"n\":42,\"tag\":\"a\"}") == 0);
  CHECK(tb.calls >= 1 && tb.refreshes == 0);
  char* stats = NULL;
  CHECK_RC(qv_sync_stats_json(sa, &stats), QV_OK);
  CHECK_CONTAINS(stats, "\"rounds\":1,\"failed_rounds\":0,\"pushed_points\":50,");
  CHECK_CONTAINS(stats, "\"last_round\":\"ok\"");
  qv_free(stats);
  CHECK_RC(qv_sync_stats_json(sb, &stats), QV_OK);
  CHECK_CONTAINS(stats, "\"pushed_points\":0,");
  qv_free(stats);

  /* Concurrent edits of different keys of one point, and a delete: every replica ends the same. */
  set_payload(a, 1, "{\"x\": 1}");
  set_payload(b, 1, "{\"y\": 2}");
  qv_collection* cb = NULL;
  uint64_t two = 2, deleted = 0;
  CHECK_RC(qv_db_collection(b, "docs", &cb), QV_OK);
  CHECK_RC(qv_collection_delete(cb, &two, 1, &deleted), QV_OK);
  qv_collection_destroy(cb);
  CHECK_RC(run(sa), QV_OK);
  CHECK_RC(run(sb), QV_OK);
  CHECK_RC(run(sa), QV_OK);
  CHECK(strcmp(payload(a, 1), payload(b, 1)) == 0);
  CHECK_CONTAINS(payload(a, 1), "\"x\":1");
  CHECK_CONTAINS(payload(a, 1), "\"y\":2");
  CHECK(count(a) == 49 && count(b) == 49);
  CHECK(strcmp(payload(a, 2), "<none>") == 0);
  CHECK(qv_sync_retry_delay_ms(sa) == 0);

  /* A wrong key: the server's 401, named; the round fails and sets a backoff. */
  qv_database* c = open_db("c");
  qv_sync* sc = open_sync(c, url, "{\"api_key\": \"wrong\"}");
  CHECK_RC(qv_sync_run(sc), QV_FAILED_PRECONDITION);
  CHECK_CONTAINS(qv_sync_errmsg(sc), "HTTP 401");
  CHECK(qv_sync_errcode(sc) == QV_FAILED_PRECONDITION);
  CHECK(qv_sync_retry_delay_ms(sc) > 0);
  CHECK_RC(qv_sync_stats_json(sc, &stats), QV_OK);
  CHECK_CONTAINS(stats, "\"failed_rounds\":1,");
  CHECK_CONTAINS(stats, "\"last_round\":\"");
  CHECK_CONTAINS(stats, "HTTP 401");
  qv_free(stats);
  /* A token callback with no token; then one whose first token is stale and whose refresh is good. */
  token_source none = {0, 0, NULL, NULL};
  CHECK_RC(qv_sync_set_token_callback(sc, token_cb, &none), QV_OK);
  CHECK_RC(qv_sync_run(sc), QV_FAILED_PRECONDITION);
  CHECK_CONTAINS(qv_sync_errmsg(sc), "the token callback returned no token");
  qv_sync_destroy(sc);
  sc = open_sync(c, url, NULL);
  token_source stale = {0, 0, "expired", "secret"};
  CHECK_RC(qv_sync_set_token_callback(sc, token_cb, &stale), QV_OK);
  CHECK_RC(run(sc), QV_OK);
  CHECK(stale.refreshes == 1);
  CHECK(count(c) == 49);
  qv_sync_destroy(sc);

  /* Bad options and URLs are refused by name, with the message on the database handle. */
  qv_sync* bad = (qv_sync*)1;
  CHECK_RC(qv_sync_open(c, url, "{\"colections\": [\"docs\"]}", &bad), QV_INVALID_ARGUMENT);
  CHECK(bad == NULL);
  CHECK_CONTAINS(qv_db_errmsg(c), "unknown option 'colections'");
  CHECK_RC(qv_sync_open(c, url, "{\"wait_ms\": 99999}", &bad), QV_INVALID_ARGUMENT);
  CHECK_CONTAINS(qv_db_errmsg(c), "wait_ms: expected an integer from 0 to 25000");
  CHECK_RC(qv_sync_open(c, url, "{\"collections\": []}", &bad), QV_INVALID_ARGUMENT);
  CHECK_RC(qv_sync_open(c, url, "[1,", &bad), QV_INVALID_ARGUMENT);
  CHECK_CONTAINS(qv_db_errmsg(c), "not JSON");
  CHECK_RC(qv_sync_open(c, "ftp://127.0.0.1:1", NULL, &bad), QV_INVALID_ARGUMENT);
  CHECK_CONTAINS(qv_db_errmsg(c), "http:// or https://");
  CHECK_RC(qv_sync_open(c, "https://127.0.0.1:1", "{\"ca_file\": \"/nonexistent/ca.pem\"}", &bad), QV_NOT_FOUND);
  CHECK_RC(qv_sync_open(NULL, url, NULL, &bad), QV_MISUSE);
  CHECK_RC(qv_sync_open(c, url, NULL, NULL), QV_MISUSE);
  CHECK_RC(qv_sync_run(NULL), QV_MISUSE);
  CHECK(strcmp(qv_sync_errmsg(NULL), "") == 0);
  qv_sync_destroy(NULL);
  /* A collection the database does not have. */
  sc = open_sync(c, url, "{\"collections\": [\"nope\"], \"api_key\": \"secret\"}");
  CHECK_RC(qv_sync_run(sc), QV_NOT_FOUND);
  CHECK_CONTAINS(qv_sync_errmsg(sc), "nope");
  qv_sync_destroy(sc);

  /* The collection deleted on the server (through the sync API, by its uid): A's next push is rejected as
   * collection_gone, which reaches the conflict callback and the recorded conflicts. */
  char cmd[2048], line[4096];
  snprintf(cmd, sizeof cmd,
           "curl -s -H 'api-key: secret' -H 'X-Replica: 00000000000000ee' -H 'X-Protocol: 1' -H 'Content-Type: "
           "application/json' -d '{\"replica\":\"00000000000000ee\",\"client\":\"curl\"}' %s/sync/v1/replicas >/dev/null && "
           "curl -s -X PUT -H 'api-key: secret' -H 'X-Replica: 00000000000000ee' -H 'X-Protocol: 1' -H "
           "'Content-Type: application/json' -d '{\"uid\":\"0123456789abcdef0123456789abcdef\",\"config\":{\"vectors\":"
           "{\"size\":3,\"distance\":\"Euclid\"}}}' %s/sync/v1/collections/by-name/docs | "
           "sed 's/.*\"uid\":\"\\([0-9a-f]*\\)\".*/\\1/'",
           url, url);
  CHECK(shell(cmd, line, sizeof line) == 0);
  line[strcspn(line, "\n")] = '\0';
  CHECK(strlen(line) == 32);
  snprintf(cmd, sizeof cmd,
           "curl -s -o /dev/null -w '%%{http_code}' -X DELETE -H 'api-key: secret' -H 'X-Replica: 00000000000000ee' "
           "-H 'X-Protocol: 1' %s/sync/v1/collections/%s",
           url, line);
  CHECK(shell(cmd, line, sizeof line) == 0);
  CHECK(strcmp(line, "409") == 0); /* the answer to a deletion is the tombstone: collection_gone */
  conflict_sink sink = {0, QV_SYNC_KEEP_SERVER, ""};
  CHECK_RC(qv_sync_set_conflict_callback(sa, conflict_cb, &sink), QV_OK);
  set_payload(a, 3, "{\"late\": true}");
  qv_sync_run(sa); /* the pull then finds the collection gone too; what matters is the push's rejection */
  CHECK(sink.calls == 1);
  CHECK_CONTAINS(sink.last, "\"collection\":\"docs\",\"id\":3,\"reason\":\"collection_gone\"");
  char* conflicts = NULL;
  CHECK_RC(qv_sync_conflicts_json(sa, NULL, &conflicts), QV_OK);
  CHECK_CONTAINS(conflicts, "\"reason\":\"collection_gone\"");
  qv_free(conflicts);
  CHECK_RC(qv_sync_clear_conflicts(sa, "docs"), QV_OK);
  CHECK_RC(qv_sync_conflicts_json(sa, "docs", &conflicts), QV_OK);
  CHECK(conflicts && strcmp(conflicts, "[]") == 0);
  qv_free(conflicts);
  CHECK_RC(qv_sync_conflicts_json(sa, "nope", &conflicts), QV_NOT_FOUND);

  qv_sync_destroy(sa);
  qv_sync_destroy(sb);
  /* A sync handle on a closed database fails cleanly. */
  qv_sync* sd = open_sync(c, url, "{\"api_key\": \"secret\"}");
  CHECK_RC(qv_db_close(c), QV_OK);
  CHECK_RC(qv_sync_run(sd), QV_FAILED_PRECONDITION);
  CHECK_CONTAINS(qv_sync_errmsg(sd), "closed");
  qv_sync_destroy(sd);
  qv_db_destroy(a);
  qv_db_destroy(b);
  qv_db_destroy(c);
  stop_server(&srv);
}

static void* interrupt_later(void* arg) {
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
  qv_sync_interrupt((qv_sync*)arg);
  return NULL;
}

static qv_database* tls_d;

/* Writes point 200 in D and pushes it, a little later. */
static void* push_later(void* arg) {
  struct timespec ts = {0, 500 * 1000 * 1000};
  nanosleep(&ts, NULL);
  write_points(tls_d, 200, 1, "after");
  CHECK_RC(run((qv_sync*)arg), QV_OK);
  return NULL;
}

static void test_tls_and_interrupt(void) {
  char cert[1200], key[1200], data[1200], cmd[4096], url[128], options[1500], line[256];
  snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
  snprintf(key, sizeof key, "%s/key.pem", tmp);
  snprintf(data, sizeof data, "%s/tls-server", tmp);
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 -subj /CN=localhost "
           "-addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null; echo $?",
           key, cert);
  CHECK(shell(cmd, line, sizeof line) == 0 && line[0] == '0');
  const char* args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
  server srv;
  CHECK(start_server(&srv, data, args) == 0);
  snprintf(url, sizeof url, "https://127.0.0.1:%d", srv.port);

  qv_database* d = open_db("tls-d");
  tls_d = d;
  qv_database* e = open_db("tls-e");
  write_points(d, 100, 10, "tls");
  /* The system's trust store does not know the certificate. */
  qv_sync* untrusted = open_sync(d, url, NULL);
  CHECK_RC(qv_sync_run(untrusted), QV_IO_ERROR);
  CHECK_CONTAINS(qv_sync_errmsg(untrusted), "certificate verify failed: self-signed certificate");
  qv_sync_destroy(untrusted);
  /* Trusted through the CA file. */
  snprintf(options, sizeof options, "{\"ca_file\": \"%s\"}", cert);
  qv_sync* sd = open_sync(d, url, options);
  CHECK_RC(run(sd), QV_OK);
  qv_sync* se = open_sync(e, url, options);
  CHECK_RC(run(se), QV_OK);
  CHECK(count(e) == 10);
  CHECK(strcmp(payload(e, 105), "{\"n\":105,\"tag\":\"tls\"}") == 0);

  /* Live: a round ends with a long-poll of 20 s; an interrupt from another thread ends it at once. */
  snprintf(options, sizeof options, "{\"ca_file\": \"%s\", \"wait_ms\": 20000}", cert);
  qv_sync* live = open_sync(e, url, options);
  pthread_t t;
  pthread_create(&t, NULL, interrupt_later, live);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK_RC(qv_sync_run(live), QV_IO_ERROR);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_join(t, NULL);
  CHECK_CONTAINS(qv_sync_errmsg(live), "interrupted");
  CHECK(t1.tv_sec - t0.tv_sec < 10);
  /* The interrupt is spent: the next live round waits, and a write pushed by D meanwhile ends its wait. */
  pthread_create(&t, NULL, push_later, sd);
  CHECK_RC(run(live), QV_OK);
  pthread_join(t, NULL);
  CHECK(count(e) == 11);
  CHECK(strcmp(payload(e, 200), "{\"n\":200,\"tag\":\"after\"}") == 0);
  qv_sync_destroy(live);
  qv_sync_destroy(sd);
  qv_sync_destroy(se);
  qv_db_destroy(d);
  qv_db_destroy(e);
  stop_server(&srv);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: c_api_sync_test QUIVERD TMPDIR\n");
    return 2;
  }
  quiverd_binary = argv[1];
  snprintf(tmp, sizeof tmp, "%s", argv[2]);
  test_converge_and_errors();
  test_tls_and_interrupt();
  printf("c_api_sync_test: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
