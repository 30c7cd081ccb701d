// The agent-wide budget for received frames: every session reserves a frame's bytes before it
// reads the body and gives them back once the message is delivered. A frame that does not fit
// waits (its session stops reading, so TCP pushes back on the sender) instead of overrunning.
// Also: RefusalLog, which lets a listener log the first refusal of each peer address only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace edgerig::bridge {

class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit_bytes);
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  size_t limit() const { return limit_; }
  size_t used() const;
  size_t peak() const;  // the most ever reserved at once
  size_t waiting() const;

  // Reserves now if the bytes fit and nobody is waiting ahead (first come, first served, so a
  // large frame is not starved by small ones). False otherwise.
  bool tryReserve(size_t bytes);
  // Reserves when the bytes fit; `granted` then runs on the releasing thread, with the bytes
  // already reserved. Returns an id for cancel(). `bytes` must be <= limit().
  uint64_t reserveWhenFree(size_t bytes, std::function<void()> granted);
  // True if the waiter was still queued (its bytes were never reserved).
  bool cancel(uint64_t id);
  void release(size_t bytes);

  // Holders of memory they could give back (a session's buffers kept for reuse) register a
  // callback; whenever a frame has to wait, every callback runs (on the waiting thread), so
  // an idle connection's spare buffers never keep a frame waiting forever.
  uint64_t addReclaimer(std::function<void()> reclaim);
  void removeReclaimer(uint64_t id);

 private:
  struct Waiter {
    uint64_t id;
    size_t bytes;
    std::function<void()> granted;
  };
  const size_t limit_;
  mutable std::mutex mu_;
  size_t used_ = 0, peak_ = 0;
  uint64_t next_id_ = 1;
  std::deque<Waiter> waiters_;
  std::vector<std::pair<uint64_t, std::function<void()>>> reclaimers_;
};

// Which peer addresses were already refused, so that a port scanner or a misconfigured script
// retrying in a loop costs one warning, not one per attempt. Bounded: forgets everything after
// kMaxPeers distinct addresses (and then warns once more for each).
class RefusalLog {
 public:
  static constexpr size_t kMaxPeers = 4096;
  bool firstFor(const std::string& host);  // thread-safe

 private:
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
};

}  // namespace edgerig::bridge
