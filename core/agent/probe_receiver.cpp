#include "core/agent/probe_receiver.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgerig {
namespace {

// Bytes per second: the median over every two chunks i < j of their bytes between over their
// time between; two chunks read at the same instant count as infinitely fast (a read that was
// late delivers the chunks queued behind it at once). Infinite when more than half are.
double medianPairRate(const std::vector<ProbeReceiver::Clock::time_point>& at,
                      const std::vector<uint64_t>& bytes) {
  std::vector<double> rates;
  rates.reserve(at.size() * (at.size() - 1) / 2);
  for (size_t i = 0; i < at.size(); ++i) {
    for (size_t j = i + 1; j < at.size(); ++j) {
      const double dt = std::chrono::duration<double>(at[j] - at[i]).count();
      const double db = static_cast<double>(bytes[j] - bytes[i]);
      rates.push_back(dt > 0 ? db / dt : std::numeric_limits<double>::infinity());
    }
  }
  const auto mid = rates.begin() + static_cast<std::ptrdiff_t>(rates.size() / 2);
  std::nth_element(rates.begin(), mid, rates.end());
  return *mid;
}

}  // namespace

Result<std::optional<wire::ProbeReport>> ProbeReceiver::onChunk(const std::string& peer,
                                                                const wire::ProbeData& chunk,
                                                                Clock::time_point at) {
  auto refuse = [&](const std::string& what) -> Result<std::optional<wire::ProbeReport>> {
    open_.erase(peer);
    return Status(StatusCode::kInvalidArgument, "probe burst from " + peer + ": " + what);
  };
  if (chunk.payload().size() > kMaxProbeChunkBytes) {
    return refuse("a chunk of " + std::to_string(chunk.payload().size()) + " bytes (at most " +
                  std::to_string(kMaxProbeChunkBytes) + ")");
  }
  if (chunk.chunks() < 2 || chunk.chunks() > kMaxProbeChunks) {
    return refuse("declares " + std::to_string(chunk.chunks()) + " chunks (2 to " +
                  std::to_string(kMaxProbeChunks) + " are timed)");
  }
  if (chunk.seq() >= chunk.chunks()) {
    return refuse("chunk " + std::to_string(chunk.seq()) + " of " + std::to_string(chunk.chunks()));
  }
  auto it = open_.find(peer);
  if (chunk.seq() == 0) {
    if (it == open_.end() && open_.size() >= kMaxOpenProbeBursts) {
      return refuse("more than " + std::to_string(kMaxOpenProbeBursts) + " bursts at once");
    }
    Burst b;
    b.probe_id = chunk.probe_id();
    b.from = chunk.from();
    b.to = chunk.to();
    b.chunks = chunk.chunks();
    b.next = 1;
    b.arrival.reserve(b.chunks);
    b.received.reserve(b.chunks);
    b.arrival.push_back(at);
    b.received.push_back(0);
    open_[peer] = std::move(b);  // a burst cut short (its sender restarted) is replaced
    return std::optional<wire::ProbeReport>();
  }
  if (it == open_.end()) {
    return refuse("chunk " + std::to_string(chunk.seq()) + " with no burst begun");
  }
  Burst& b = it->second;
  if (chunk.probe_id() != b.probe_id || chunk.from() != b.from || chunk.to() != b.to ||
      chunk.chunks() != b.chunks || chunk.seq() != b.next) {
    return refuse("chunk " + std::to_string(chunk.seq()) + " of probe " +
                  std::to_string(chunk.probe_id()) + " does not follow chunk " +
                  std::to_string(b.next - 1) + " of probe " + std::to_string(b.probe_id));
  }
  b.bytes += chunk.payload().size();
  b.arrival.push_back(at);
  b.received.push_back(b.bytes);
  ++b.next;
  if (b.next < b.chunks) return std::optional<wire::ProbeReport>();
  wire::ProbeReport r;
  r.set_probe_id(b.probe_id);
  r.set_from(b.from);
  r.set_to(b.to);
  r.set_sender_name(peer);
  r.set_bytes(b.bytes);
  // Reported as the time the bytes took at that rate (bytes / seconds is the rate); the span
  // from the first read to the last when the median is infinite (most chunks read at once).
  const double rate = medianPairRate(b.arrival, b.received);
  const double span = std::chrono::duration<double>(at - b.arrival.front()).count();
  r.set_seconds(rate > 0 && std::isfinite(rate) ? static_cast<double>(b.bytes) / rate : span);
  r.set_chunks(b.chunks);
  open_.erase(it);
  return std::optional<wire::ProbeReport>(std::move(r));
}

}  // namespace edgerig
