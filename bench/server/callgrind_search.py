#!/usr/bin/env python3
"""Instructions per search request in quiverd, as docs/benchmarks.md reports them.

Starts `quiverd --threads 1` under callgrind on server_bench's database (CACHE/server-bench-db), sends 100
searches to warm up over one keep-alive connection, zeroes the counters, sends 1,000 more (the set's queries,
%.9g as server_bench formats them, limit 10, hnsw_ef 28), dumps, and prints total instructions / 1,000.

  bench/server/callgrind_search.py build/native-release/bindings-native/quiverd [.cache/bench] [port]
"""
import glob, os, socket, struct, subprocess, sys, time

quiverd = sys.argv[1]
cache = sys.argv[2] if len(sys.argv) > 2 else ".cache/bench"
port = int(sys.argv[3]) if len(sys.argv) > 3 else 18791
out_dir = "/tmp/callgrind-search-%d" % os.getpid()
os.makedirs(out_dir)

queries = []
with open(os.path.join(cache, "synthetic-384.query.fvecs"), "rb") as f:
    while True:
        head = f.read(4)
        if not head:
            break
        (dim,) = struct.unpack("<i", head)
        queries.append(struct.unpack("<%df" % dim, f.read(4 * dim)))
bodies = []
for q in queries:
    body = '{"vector":[' + ",".join("%.9g" % x for x in q) + '],"limit":10,"params":{"hnsw_ef":28}}'
    bodies.append(("POST /collections/bench/points/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())

server = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_dir + "/cg.%p",
                           quiverd, "--data", os.path.join(cache, "server-bench-db"), "--port", str(port),
                           "--log-requests=false", "--max-body-mb", "256", "--threads", "1"],
                          stdout=subprocess.DEVNULL, stderr=open(out_dir + "/valgrind.log", "w"))
for _ in range(600):
    try:
        sock = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.5)
buf = b""

def ask(raw):
    global buf
    sock.sendall(raw)
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < length:
        rest += sock.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("unexpected answer: " + head.decode())
    buf = rest[length:]

for i in range(100):
    ask(bodies[i % len(bodies)])
subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True, stdout=subprocess.DEVNULL)
for i in range(1000):
    ask(bodies[(100 + i) % len(bodies)])
subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True, stdout=subprocess.DEVNULL)
sock.close()
server.terminate()
server.wait()
# The dump triggered above (the file named cg.PID.1; cg.PID is the shutdown).
dump = out_dir + "/cg.%d.1" % server.pid
total = None
for line in open(dump):
    if line.startswith("summary:"):
        total = int(line.split()[1])
print("%s: %d instructions, %.0f per request (callgrind_annotate --inclusive=yes %s for the parts)" %
      (dump, total, total / 1000, dump))
