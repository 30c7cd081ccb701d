// edgerig's ring all-reduce over bridge Sessions against c10d's Gloo all-reduce
// (ProcessGroupGloo), in the same P worker processes on loopback, for P in {2, 4} and 1, 4 and
// 16 MiB of float32 (SUM). Prints a table, the CPU each costs, and `RATIO
// ring_vs_gloo_<P>p_<size>mib <ring/gloo>` lines (algorithm bandwidth; target >= 0.9), plus
// `..._buckets<B>mib` lines for the tensor cut into the allreduce worker's default buckets.
//
// The parent runs this binary again once per rank (`worker`); each worker joins a Gloo process
// group (FileStore rendezvous in a temp dir) and a bridge ring (BridgeRing: chunks sent and
// received exactly as AllreduceWorker does; its listener's port goes through the same store).
// The methods alternate block by block; a block is up to 16 back-to-back all-reduces of the same
// tensor, timed from a Gloo barrier and followed by an exact check of the sums, so a broken
// reduction stops the bench instead of being timed.
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bridge_ring.h"
#include "worker_processes.h"

namespace {

using namespace edgerig;
using Clock = std::chrono::steady_clock;

// At most this many all-reduces per timed block. After the first, each multiplies the (equal)
// values by P: with P a power of two and small integer inputs the sums stay exact in float32
// (<= 26 * 4^15, 5 significant bits), and a reduction that misses a rank is off by >= 1/P.
constexpr int kMaxBlock = 16;
// A block lasts about this long: short enough that the methods' blocks, alternating, see the
// same load of a shared machine; long enough that the barrier's skew does not count.
constexpr double kBlockSeconds = 0.1;
constexpr int kMinRounds = 9;
constexpr double kDefaultBucketMiB = 2.0;  // allreduce's `bucketMiB` default (allreduce.cpp)

enum class Method { kGloo, kRing, kRingBuckets };
constexpr const char* kMethodNames[] = {"gloo", "ring", "ring-buckets"};

struct Options {
  std::vector<int> procs{2, 4};
  std::vector<int> sizes_mib{1, 4, 16};
  double seconds = 3.0;  // timed, per method and case
  double bucket_mib = kDefaultBucketMiB;
  std::vector<std::string> methods{"gloo", "ring", "ring-buckets"};
  // Worker only.
  int rank = 0, size = 0;
  std::string store;
};

std::string joinList(const std::vector<int>& v) {
  std::string s;
  for (int x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

std::string joinNames(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

// ------------------------------------------------------------------------------------------
// Worker side.

// User and system CPU time of this process, all threads (the io thread and Gloo's included).
// On a machine with fewer cores than busy threads it is what throughput is made of.
double processCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6;
  };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

class Worker {
 public:
  Worker(const Options& o, c10::intrusive_ptr<c10d::ProcessGroupGloo> pg,
         std::unique_ptr<bench::BridgeRing> ring)
      : o_(o), pg_(std::move(pg)), ring_(std::move(ring)) {}

  // Times every method on a tensor of `mib` MiB and prints RESULT and BREAKDOWN lines.
  Status runSize(int mib) {
    const int64_t numel = (int64_t{mib} << 20) / 4;
    // Rank r holds r + 1 + (i mod 5): every element's sum is known without the others' data.
    i_mod_ = torch::arange(numel, torch::kInt64).remainder(5).to(torch::kFloat32);
    input_ = i_mod_ + static_cast<float>(o_.rank + 1);
    work_ = torch::empty_like(input_);
    bucket_elems_ = static_cast<int64_t>(o_.bucket_mib * (1 << 20) / 4);
    std::vector<Method> methods;
    if (wanted("gloo")) methods.push_back(Method::kGloo);
    if (wanted("ring")) methods.push_back(Method::kRing);
    if (wanted("ring-buckets") && bucket_elems_ < numel) methods.push_back(Method::kRingBuckets);

    if (methods.empty()) return Status::ok();
    // Warm-up (connections, buffers, page faults), then rank 0 sizes the blocks and the rounds
    // from the first method's (Gloo's) fastest single all-reduce; everyone uses its numbers.
    setBlock(1);
    for (int k = 0; k < 2; ++k) {
      for (Method m : methods) {
        if (auto t = timeBlock(m); !t) return t.status();
      }
    }
    double one = 1e9;
    for (int k = 0; k < 3; ++k) {
      auto t = timeBlock(methods.front());
      if (!t) return t.status();
      one = std::min(one, *t);
    }
    const int64_t block = std::clamp<int64_t>(std::lround(kBlockSeconds / one), 1, kMaxBlock);
    const int64_t rounds = std::clamp<int64_t>(
        std::lround(o_.seconds / (static_cast<double>(block) * one)), kMinRounds, 10000);
    auto plan = torch::tensor({block, rounds});
    std::vector<at::Tensor> v{plan};
    pg_->broadcast(v)->wait();
    setBlock(static_cast<int>(plan[0].item<int64_t>()));

    ring_->takeBreakdown();
    std::map<Method, std::pair<double, bench::RingBreakdown>> spent;  // timed s, and its parts
    for (int64_t round = 0; round < plan[1].item<int64_t>(); ++round) {
      // Rotate the order so that no method always runs first after a check or last.
      for (size_t k = 0; k < methods.size(); ++k) {
        const Method m = methods[(k + static_cast<size_t>(round)) % methods.size()];
        auto timed = timeBlock(m);
        if (!timed) return timed.status();
        const double seconds = *timed;
        std::printf("RESULT %d %s %lld %.6f %d %.6f\n", mib, kMethodNames[static_cast<int>(m)],
                    static_cast<long long>(round), seconds, block_, last_cpu_s_);
        auto& [total, parts] = spent[m];
        total += seconds;
        const bench::RingBreakdown b = ring_->takeBreakdown();
        parts.wait_s += b.wait_s;
        parts.decode_s += b.decode_s;
        parts.reduce_s += b.reduce_s;
        parts.build_s += b.build_s;
        parts.send_s += b.send_s;
        parts.chunks_sent += b.chunks_sent;
      }
    }
    for (const auto& [m, t] : spent) {
      if (m == Method::kGloo) continue;
      const bench::RingBreakdown& b = t.second;
      std::printf("BREAKDOWN %d %s %.6f %.6f %.6f %.6f %.6f %.6f %lld\n", mib,
                  kMethodNames[static_cast<int>(m)], t.first, b.wait_s, b.decode_s, b.reduce_s,
                  b.build_s, b.send_s, static_cast<long long>(b.chunks_sent));
    }
    std::fflush(stdout);
    return Status::ok();
  }

  void barrier() { pg_->barrier()->wait(); }
  bench::BridgeRing& ring() { return *ring_; }

 private:
  bool wanted(const std::string& m) const {
    return std::find(o_.methods.begin(), o_.methods.end(), m) != o_.methods.end();
  }

  void setBlock(int block) {
    block_ = block;
    const double p = o_.size;
    expected_ = (i_mod_ * p + p * (p + 1) / 2) * std::pow(p, block - 1);
  }

  // block_ all-reduces of input_, timed from a barrier; the sums are checked afterwards.
  Result<double> timeBlock(Method m) {
    work_.copy_(input_);
    std::vector<torch::Tensor> buckets;
    if (m == Method::kRing) buckets = {work_};
    if (m == Method::kRingBuckets) buckets = work_.split(bucket_elems_);
    barrier();
    const double cpu0 = processCpuSeconds();
    const auto t0 = Clock::now();
    for (int k = 0; k < block_; ++k) {
      if (m == Method::kGloo) {
        std::vector<at::Tensor> v{work_};
        pg_->allreduce(v)->wait();
      } else if (auto st = ring_->allreduce(buckets); !st) {
        return st;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    last_cpu_s_ = processCpuSeconds() - cpu0;
    if (!torch::allclose(work_, expected_, /*rtol=*/1e-6, /*atol=*/0)) {
      const int64_t bad = (work_ != expected_).nonzero()[0][0].item<int64_t>();
      return internalError(
          std::string(kMethodNames[static_cast<int>(m)]) + " all-reduce on rank " +
          std::to_string(o_.rank) + " gave " + std::to_string(work_[bad].item<float>()) +
          " at element " + std::to_string(bad) + ", expected " +
          std::to_string(expected_[bad].item<float>()) + ": the reduction is broken");
    }
    return seconds;
  }

  const Options& o_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  std::unique_ptr<bench::BridgeRing> ring_;
  torch::Tensor i_mod_, input_, expected_, work_;
  int64_t bucket_elems_ = 0;
  int block_ = 1;
  double last_cpu_s_ = 0;  // of the last block
};

// One rank. c10d reports its failures by exceptions; main() catches them.
Status workerMain(const Options& o) {
  // As edgerig-agent: one torch thread, and a heap that keeps multi-MiB tensor buffers.
  torch::set_num_threads(1);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  auto store = c10::make_intrusive<c10d::FileStore>(o.store, o.size);
  auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(120));
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.size, options);

  auto ring = bench::BridgeRing::listen(o.rank, o.size);
  if (!ring) return ring.status();
  const std::string port = std::to_string(ring.value()->port());
  store->set("ring-port-" + std::to_string(o.rank), std::vector<uint8_t>(port.begin(), port.end()));
  const auto right = store->get("ring-port-" + std::to_string((o.rank + 1) % o.size));
  const auto right_port = static_cast<uint16_t>(std::stoi(std::string(right.begin(), right.end())));
  if (auto st = ring.value()->join(right_port, std::chrono::seconds(30)); !st) return st;

  Worker w(o, pg, std::move(ring).value());
  w.barrier();
  for (int mib : o.sizes_mib) {
    if (auto st = w.runSize(mib); !st) return st;
  }
  w.barrier();  // every rank is past its last all-reduce before any session closes
  w.ring().close();
  return Status::ok();
}

// ------------------------------------------------------------------------------------------
// Parent side.

struct Key {
  int procs, mib;
  std::string method;
  int round;
  bool operator<(const Key& k) const {
    return std::tie(procs, mib, method, round) < std::tie(k.procs, k.mib, k.method, k.round);
  }
};
struct Timing {
  double seconds = 0;  // the slowest rank's: an all-reduce is done when every rank has it
  int count = 0;
  double cpu_s = 0;  // summed over ranks
};

// The q-quantile of v (nearest rank).
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1)))];
}

// A ring method's calling-thread time by part, summed over ranks (BREAKDOWN lines).
struct Parts {
  double total = 0, wait = 0, decode = 0, reduce = 0, build = 0, send = 0;
  long long chunks = 0;
  int ranks = 0;
};

// Runs the workers for every process count; fills `timings` and `parts` (round -1 keys).
Status runWorkers(const Options& o, std::map<Key, Timing>& timings, std::map<Key, Parts>& parts) {
  for (int p : o.procs) {
    char dir_template[] = "/tmp/edgerig-ring-vs-gloo-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (dir == nullptr) return internalError("cannot make a temp dir in /tmp for the FileStore");
    bench::WorkerProcesses workers;
    Status st;
    for (int r = 0; r < p && st; ++r) {
      st = workers.spawn({"--procs", std::to_string(p), "--sizes", joinList(o.sizes_mib),
                          "--seconds", std::to_string(o.seconds), "--bucket-mib",
                          std::to_string(o.bucket_mib), "--methods", joinNames(o.methods), "worker",
                          "--rank", std::to_string(r), "--store", std::string(dir) + "/store"});
    }
    if (st) st = workers.collect(std::chrono::seconds(1800));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!st) return {st.code(), "with " + std::to_string(p) + " processes: " + st.message()};
    for (const auto& lines : workers.lines()) {
      for (const std::string& line : lines) {
        std::istringstream in(line);
        std::string tag, method;
        int mib = 0, round = 0, count = 0;
        double seconds = 0;
        Parts b;
        if (!(in >> tag >> mib >> method)) continue;
        double cpu = 0;
        if (tag == "RESULT" && in >> round >> seconds >> count >> cpu) {
          Timing& t = timings[{p, mib, method, round}];
          t.seconds = std::max(t.seconds, seconds);
          t.count = count;
          t.cpu_s += cpu;
        } else if (tag == "BREAKDOWN" && in >> b.total >> b.wait >> b.decode >> b.reduce >>
                                             b.build >> b.send >> b.chunks) {
          Parts& sum = parts[{p, mib, method, -1}];
          sum.total += b.total;
          sum.wait += b.wait;
          sum.decode += b.decode;
          sum.reduce += b.reduce;
          sum.build += b.build;
          sum.send += b.send;
          sum.chunks += b.chunks;
          ++sum.ranks;
        }
      }
    }
  }
  return Status::ok();
}

int parentMain(const Options& o) {
  setenv("EDGERIG_LOG", "warn", /*overwrite=*/0);  // the workers' sessions log at info
  std::map<Key, Timing> timings;
  std::map<Key, Parts> parts;
  if (auto st = runWorkers(o, timings, parts); !st) {
    std::fprintf(stderr, "bench_ring_vs_gloo: %s\n", st.message().c_str());
    return 1;
  }
  std::printf(
      "ring all-reduce over bridge Sessions vs c10d ProcessGroupGloo, loopback, float32 SUM.\n"
      "MB/s: tensor bytes x all-reduces / s over all rounds (the slowest rank's time). "
      "ring/gloo: median of the\nrounds' paired ratios [p25-p75]. ring: the tensor as one "
      "bucket; ring-bkt: cut into %g MiB buckets.\n",
      o.bucket_mib);
  std::printf("%-5s %-7s %6s %5s %9s %9s %20s %12s %20s\n", "procs", "tensor", "rounds", "block",
              "gloo MB/s", "ring MB/s", "ring/gloo", "ring-bkt MB/s", "ring-bkt/gloo");
  std::vector<std::string> ratio_lines;
  const auto ratioLine = [&](const std::string& name, double value) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "RATIO %s %.3f", name.c_str(), value);
    ratio_lines.push_back(buf);
  };
  for (int p : o.procs) {
    for (int mib : o.sizes_mib) {
      const double bytes = static_cast<double>(int64_t{mib} << 20);
      std::map<std::string, std::vector<double>> ratio;
      std::map<std::string, double> seconds, count;
      int rounds = 0, block = 0;
      for (int r = 0;; ++r) {
        auto g = timings.find({p, mib, "gloo", r});
        if (g == timings.end()) break;
        ++rounds;
        block = g->second.count;
        for (const char* m : {"gloo", "ring", "ring-buckets"}) {
          auto t = timings.find({p, mib, m, r});
          if (t == timings.end()) continue;
          seconds[m] += t->second.seconds;
          count[m] += t->second.count;
          // Equal all-reduce counts per round: the ratio of times is the ratio of throughputs,
          // paired within a round so that the machine's load cancels as far as it can.
          ratio[m].push_back(g->second.seconds / t->second.seconds);
        }
      }
      const auto mbps = [&](const char* m) {
        return seconds[m] > 0 ? bytes * count[m] / seconds[m] / 1e6 : 0.0;
      };
      const auto cell = [&](const char* m) {
        char buf[40];
        if (ratio[m].empty()) return std::string("-");
        std::snprintf(buf, sizeof buf, "%.3f [%.2f-%.2f]", quantile(ratio[m], 0.5),
                      quantile(ratio[m], 0.25), quantile(ratio[m], 0.75));
        return std::string(buf);
      };
      char bkt[16] = "-";
      if (!ratio["ring-buckets"].empty())
        std::snprintf(bkt, sizeof bkt, "%.1f", mbps("ring-buckets"));
      std::printf("%-5d %3d MiB %6d %5d %9.1f %9.1f %20s %12s %20s\n", p, mib, rounds, block,
                  mbps("gloo"), mbps("ring"), cell("ring").c_str(), bkt,
                  cell("ring-buckets").c_str());
      const std::string name =
          "ring_vs_gloo_" + std::to_string(p) + "p_" + std::to_string(mib) + "mib";
      ratioLine(name, quantile(ratio["ring"], 0.5));
      if (!ratio["ring-buckets"].empty()) {
        char suffix[32];
        std::snprintf(suffix, sizeof suffix, "_buckets%gmib", o.bucket_mib);
        ratioLine(name + suffix, quantile(ratio["ring-buckets"], 0.5));
      }
    }
  }
  std::printf(
      "\nCost per all-reduce: CPU ms of all ranks together (user + system, every thread). For the "
      "ring, where its calling\nthread's time goes (it stands for an agent's trainer thread), %% "
      "of the timed time, mean of ranks: waiting for the\nio thread to hand over a chunk, decoding "
      "it, reducing it, building the next message (appendTensor's copy), Session::send.\n");
  std::printf("%-5s %-7s %-13s %7s %7s %7s %7s %7s %7s %7s %9s\n", "procs", "tensor", "method",
              "CPU ms", "wait", "decode", "reduce", "build", "send", "other", "KiB/chunk");
  for (int p : o.procs) {
    for (int mib : o.sizes_mib) {
      for (const char* m : {"gloo", "ring", "ring-buckets"}) {
        double cpu = 0, allreduces = 0;
        for (auto t = timings.lower_bound({p, mib, m, 0});
             t != timings.end() && t->first.procs == p && t->first.mib == mib &&
             t->first.method == m;
             ++t) {
          cpu += t->second.cpu_s;
          allreduces += t->second.count;
        }
        if (allreduces == 0) continue;
        std::printf("%-5d %3d MiB %-13s %7.2f", p, mib, m, 1e3 * cpu / allreduces);
        auto part = parts.find({p, mib, m, -1});
        if (part == parts.end()) {
          std::printf("\n");
          continue;
        }
        const Parts& b = part->second;
        const double pct = 100 / b.total;
        const double other = b.total - b.wait - b.decode - b.reduce - b.build - b.send;
        // Each rank sends 2(P-1)/P of the tensor per all-reduce.
        const double kib_per_chunk = allreduces * mib * 1024.0 * 2 * (p - 1) / p * b.ranks /
                                     static_cast<double>(std::max<long long>(1, b.chunks));
        std::printf(" %6.1f%% %6.1f%% %6.1f%% %6.1f%% %6.1f%% %6.1f%% %9.0f\n", b.wait * pct,
                    b.decode * pct, b.reduce * pct, b.build * pct, b.send * pct, other * pct,
                    kib_per_chunk);
      }
    }
  }
  for (const auto& l : ratio_lines) std::printf("%s\n", l.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App cli{
      "edgerig's ring all-reduce over the bridge vs c10d's Gloo all-reduce, in real "
      "processes on loopback; prints a table and RATIO lines"};
  cli.add_option("--procs", o.procs, "process counts to run")
      ->delimiter(',')
      ->check(CLI::Range(2, 16));
  cli.add_option("--sizes", o.sizes_mib, "tensor sizes in MiB of float32")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  cli.add_option("--seconds", o.seconds,
                 "timed seconds per method and case (in rounds of ~0.1 s blocks, >= 9 rounds)")
      ->check(CLI::PositiveNumber);
  cli.add_option("--bucket-mib", o.bucket_mib, "bucket size of the ring-buckets variant")
      ->check(CLI::PositiveNumber);
  cli.add_option("--methods", o.methods,
                 "what to run (a subset, for profiling one; ratios need gloo)")
      ->delimiter(',')
      ->check(CLI::IsMember({"gloo", "ring", "ring-buckets"}));
  // How the parent runs this binary as one rank.
  auto* worker = cli.add_subcommand("worker", "one rank (started by the bench itself)");
  worker->group("");  // hidden
  worker->add_option("--rank", o.rank)->required();
  worker->add_option("--store", o.store, "FileStore path")->required();
  CLI11_PARSE(cli, argc, argv);
  if (!*worker) return parentMain(o);
  o.size = o.procs.front();
  Status st;
  try {
    st = workerMain(o);
  } catch (const std::exception& e) {
    st = internalError(e.what());
  }
  if (st) return 0;
  std::fprintf(stderr, "bench_ring_vs_gloo worker %d of %d: %s\n", o.rank, o.size,
               st.message().c_str());
  return 1;
}
