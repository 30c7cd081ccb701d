#include "core/agent/probe_receiver.h"

namespace edgerig {

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
    b.first = at;
    open_[peer] = b;  // a burst cut short (its sender restarted) is replaced
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
  ++b.next;
  if (b.next < b.chunks) return std::optional<wire::ProbeReport>();
  wire::ProbeReport r;
  r.set_probe_id(b.probe_id);
  r.set_from(b.from);
  r.set_to(b.to);
  r.set_sender_name(peer);
  r.set_bytes(b.bytes);
  r.set_seconds(std::chrono::duration<double>(at - b.first).count());
  r.set_chunks(b.chunks);
  open_.erase(it);
  return std::optional<wire::ProbeReport>(std::move(r));
}

}  // namespace edgerig
