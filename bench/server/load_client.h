// A small HTTP/1.1 load generator on Asio: `connections` keep-alive connections on one thread, each sending
// the next prepared request as soon as the previous answer arrives (closed loop), for a warm-up and then a
// measured window. Records every measured request's latency, the first answer to each request, and the CPU
// time the generator's thread used in the window.
//
// It is built to cost as little CPU per request as it can, since it shares the machine with the server it
// measures: requests are sent as prepared bytes, answers are read into a fixed per-connection buffer and
// framed by their Content-Length with no HTTP parser and no allocation per request (answers must carry a
// Content-Length, as quiverd's do; chunked answers count as failures).
//
// Thread safety: Run is reentrant; it owns its io_context and runs it on the calling thread.
#ifndef QUIVER_BENCH_SERVER_LOAD_CLIENT_H_
#define QUIVER_BENCH_SERVER_LOAD_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace quiver::bench {

struct LoadResult {
  double seconds = 0;                      // the measured window
  uint64_t completed = 0;                  // requests answered 200 inside it
  uint64_t failed = 0;                     // non-200 answers or broken connections (whole run)
  uint64_t answered = 0;                   // every answer of the run, the warm-up's too
  double cpu_seconds = 0;                  // the generator thread's CPU time over the whole run
  std::vector<double> latencies;           // seconds, measured requests
  std::vector<std::string> first_answers;  // body of the first 200 answer per request index ("" if none)
  double Qps() const { return seconds > 0 ? completed / seconds : 0; }
  double Percentile(double p) const;  // of latencies, 0..100
};

struct LoadSpec {
  uint16_t port = 0;
  size_t connections = 1;
  double warmup_seconds = 1;
  double seconds = 5;
  // Complete raw requests (head and body); connection c starts at request c * requests.size() / connections.
  std::vector<std::string> requests;
  // Instead of running for `seconds`: send each request exactly once (spread over the connections), for
  // write throughput. The window then is the whole run.
  bool each_once = false;
  // Poll for answers without ever sleeping (the thread then uses its whole CPU). Only for a generator on a
  // core of its own: a sleeping generator makes the server's every send pay for waking it (an inter-processor
  // interrupt, costly in a VM), which a client on another machine would not cost the server.
  bool spin = false;
};

LoadResult RunLoad(const LoadSpec& spec);

// "POST path HTTP/1.1" with a JSON body, keep-alive.
std::string RawRequest(const std::string& method, const std::string& path, const std::string& body);

}  // namespace quiver::bench

#endif  // QUIVER_BENCH_SERVER_LOAD_CLIENT_H_
