// Tensor throughput of a Session (algorithm messages with bulk data) against a raw Asio TCP socket
// sending the same bytes with a length prefix, all over loopback in the same run, for each
// protection a session can have: none (both sides ask for none), a MAC per frame (the
// default), TLS 1.3. Prints a table and RATIO lines:
//   bridge_throughput_<n>MiB          default session (MAC) / raw    (target >= 0.8)
//   bridge_unprotected_<n>MiB         session without MAC / raw
//   bridge_mac_vs_unprotected_<n>MiB  what the MAC costs
//   bridge_tls_vs_unprotected_<n>MiB  what TLS costs
//   bridge_tls_vs_mac_<n>MiB
#include <malloc.h>
#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device_bridge/frame.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"

namespace {

using namespace edgerig;
using namespace edgerig::bridge;
using Clock = std::chrono::steady_clock;

constexpr size_t kBytesPerRun = 192u << 20;  // per size and method, so each run is ~0.1-1 s
constexpr int kRepetitions = 9;              // odd, for a median: the machine is shared
const std::string kToken = "bench-token-0123456789abcdef";

std::string tensorBytes(size_t bytes, size_t seed) {
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; i += 64) data[i] = static_cast<char>(i / 64 + seed);
  return data;
}

// Both sides send the same `count` distinct tensors, prepared before timing: sending one
// buffer again and again would let the raw side read it from cache while the session reads
// cold memory, which measures the cache, not the protocol.
std::vector<std::string> tensors(size_t bytes, size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t m = 0; m < count; ++m) out.push_back(tensorBytes(bytes, m));
  return out;
}

// Raw baseline: the same bytes behind a 4-byte length, written and read with the fewest
// system calls Asio allows (whole-remainder write_some/read_some), into a reused buffer.
double rawSeconds(const std::vector<std::string>& tensors) {
  const size_t bytes = tensors.front().size(), count = tensors.size();
  // Copied just before timing, as the session copies them into messages: same cache state.
  const std::vector<std::string> data = tensors;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto endpoint = acceptor.local_endpoint();
  Clock::time_point done;
  std::thread reader([&] {
    asio::ip::tcp::socket s = acceptor.accept();
    std::unique_ptr<char[]> buf(new char[bytes]);
    for (size_t m = 0; m < count; ++m) {
      uint8_t header[4];
      size_t got = 0;
      while (got < 4) got += s.read_some(asio::buffer(header + got, 4 - got));
      const uint32_t len = decodeLength(header);
      got = 0;
      while (got < len) got += s.read_some(asio::buffer(buf.get() + got, len - got));
    }
    done = Clock::now();
  });
  asio::ip::tcp::socket out(io);
  out.connect(endpoint);
  out.set_option(asio::ip::tcp::no_delay(true));
  uint8_t header[4] = {static_cast<uint8_t>(bytes >> 24), static_cast<uint8_t>(bytes >> 16),
                       static_cast<uint8_t>(bytes >> 8), static_cast<uint8_t>(bytes)};
  const auto t0 = Clock::now();
  for (size_t m = 0; m < count; ++m) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(header), asio::buffer(data[m])};
    size_t sent = 0;
    const size_t total = 4 + bytes;
    while (sent < total) {
      // Skip what is already sent across the two buffers.
      std::array<asio::const_buffer, 2> rest = bufs;
      size_t skip = sent;
      for (auto& b : rest) {
        const size_t n = std::min(skip, b.size());
        b += n;
        skip -= n;
      }
      sent += out.write_some(rest);
    }
  }
  reader.join();
  return std::chrono::duration<double>(done - t0).count();
}

double sessionSeconds(const std::vector<std::string>& data, wire::Protection protection) {
  const size_t bytes = data.front().size(), count = data.size();
  IoThread server_io, client_io;  // two io threads, as two processes would have
  std::mutex mutex;
  std::condition_variable cv;
  size_t received = 0;  // io thread only
  bool all_received = false;
  std::vector<std::shared_ptr<Session>> accepted;
  SessionOptions options;
  options.local_name = "bench-agent";
  options.protection = protection;
  auto listener = Listener::create(server_io.context(), {"127.0.0.1", 0}, kToken, options,
                                   [&](std::shared_ptr<Session> s) {
                                     accepted.push_back(s);
                                     s->start(
                                         [&](wire::Envelope&& env) {
                                           if (env.algo().data().size() != bytes) {
                                             std::fprintf(stderr, "wrong payload size\n");
                                           }
                                           // Wake the timing thread once, at the end, as
                                           // the raw reader does: a wake-up per message
                                           // steals a core from the transfer.
                                           if (++received < count) return;
                                           std::lock_guard lock(mutex);
                                           all_received = true;
                                           cv.notify_one();
                                         },
                                         [](const Status&) {});
                                   });
  if (!listener) {
    std::fprintf(stderr, "listen: %s\n", listener.status().message().c_str());
    std::exit(1);
  }
  options.local_name = "bench-client";
  options.role = wire::PEER_ROLE_TOOL;
  auto client =
      connect(client_io.context(), {"127.0.0.1", listener.value()->port()}, kToken, options);
  if (!client) {
    std::fprintf(stderr, "connect: %s\n", client.status().message().c_str());
    std::exit(1);
  }
  auto session = client.value();
  if (session->protection() != protection) {
    std::fprintf(stderr, "protection %d asked, %d used\n", protection, session->protection());
    std::exit(1);
  }
  session->start([](wire::Envelope&&) {}, [](const Status&) {});
  // The tensor is turned into an algorithm message before timing: that copy happens in any
  // protocol.
  std::vector<wire::Envelope> messages(count);
  for (size_t m = 0; m < count; ++m) {
    auto* a = messages[m].mutable_algo();
    a->set_kind(static_cast<uint32_t>(TrafficKind::kWeights));
    auto* t = a->add_tensors();
    t->add_shape(static_cast<int64_t>(bytes / 4));
    t->set_dtype(wire::DTYPE_FLOAT32);
    a->set_data(data[m]);
  }
  const auto t0 = Clock::now();
  for (auto& env : messages) session->send(std::move(env));
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return all_received; });
  const auto t1 = Clock::now();
  lock.unlock();
  session->close();
  listener.value()->close();
  return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

// Arguments: tensor sizes in MiB to run (default 1 4 16); --default-malloc keeps glibc's
// allocator settings.
int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  bool tune_malloc = true;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--default-malloc") {
      tune_malloc = false;
    } else {
      sizes.push_back(std::strtoul(argv[i], nullptr, 10));
    }
  }
  // Every delivered message owns its tensor bytes, so a receiver allocates and frees one
  // buffer per message. With glibc's defaults the heap top is trimmed after each free and
  // faulted back in on the next allocation, which costs as much as the copy we avoided. A
  // process that moves tensors should keep its heap (edgerig-agent ought to do the same).
  if (tune_malloc) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  }
  std::printf("malloc: %s\n", tune_malloc ? "heap kept (M_TRIM_THRESHOLD 512 MiB, "
                                            "M_MMAP_THRESHOLD 32 MiB)"
                                          : "glibc defaults");
  if (sizes.empty()) sizes = {1, 4, 16};
  enum { kRaw, kNone, kMac, kTls, kMethods };
  const wire::Protection protections[] = {wire::PROTECTION_NONE, wire::PROTECTION_NONE,
                                          wire::PROTECTION_MAC, wire::PROTECTION_TLS};
  struct Row {
    size_t mib;
    double mbps[kMethods];
    double mac_raw, none_raw, mac_none, tls_none, tls_mac;  // medians of paired ratios
  };
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<Row> rows;
  for (size_t mib : sizes) {
    const size_t bytes = mib << 20;
    const size_t count = kBytesPerRun / bytes;
    // Runs alternate, and each ratio compares neighbouring runs: on a shared machine the load
    // changes by the second, and the median of paired ratios is what stays put.
    const std::vector<std::string> data = tensors(bytes, count);
    std::vector<double> seconds[kMethods], mac_raw, none_raw, mac_none, tls_none, tls_mac;
    for (int rep = 0; rep < kRepetitions; ++rep) {
      double t[kMethods];
      t[kRaw] = rawSeconds(data);
      for (int m = kNone; m < kMethods; ++m) t[m] = sessionSeconds(data, protections[m]);
      for (int m = 0; m < kMethods; ++m) seconds[m].push_back(t[m]);
      mac_raw.push_back(t[kRaw] / t[kMac]);
      none_raw.push_back(t[kRaw] / t[kNone]);
      mac_none.push_back(t[kNone] / t[kMac]);
      tls_none.push_back(t[kNone] / t[kTls]);
      tls_mac.push_back(t[kMac] / t[kTls]);
    }
    const double total_mb = static_cast<double>(bytes * count) / 1e6;
    Row row{mib,
            {},
            median(mac_raw),
            median(none_raw),
            median(mac_none),
            median(tls_none),
            median(tls_mac)};
    for (int m = 0; m < kMethods; ++m) row.mbps[m] = total_mb / median(seconds[m]);
    rows.push_back(row);
  }
  std::printf("%-10s %10s %12s %12s %12s\n", "tensor", "raw MB/s", "no MAC MB/s", "MAC MB/s",
              "TLS MB/s");
  for (const Row& r : rows) {
    std::printf("%4zu MiB   %10.1f %12.1f %12.1f %12.1f\n", r.mib, r.mbps[kRaw], r.mbps[kNone],
                r.mbps[kMac], r.mbps[kTls]);
  }
  for (const Row& r : rows) {
    std::printf("RATIO bridge_throughput_%zuMiB %.3f\n", r.mib, r.mac_raw);
    std::printf("RATIO bridge_unprotected_%zuMiB %.3f\n", r.mib, r.none_raw);
    std::printf("RATIO bridge_mac_vs_unprotected_%zuMiB %.3f\n", r.mib, r.mac_none);
    std::printf("RATIO bridge_tls_vs_unprotected_%zuMiB %.3f\n", r.mib, r.tls_none);
    std::printf("RATIO bridge_tls_vs_mac_%zuMiB %.3f\n", r.mib, r.tls_mac);
  }
  return 0;
}
