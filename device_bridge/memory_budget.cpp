#include "device_bridge/memory_budget.h"

#include <algorithm>

namespace edgerig::bridge {

MemoryBudget::MemoryBudget(size_t limit_bytes) : limit_(limit_bytes) {}

size_t MemoryBudget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

size_t MemoryBudget::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

size_t MemoryBudget::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

bool MemoryBudget::tryReserve(size_t bytes) {
  std::lock_guard lock(mu_);
  if (!waiters_.empty() || bytes > limit_ - used_) return false;
  used_ += bytes;
  peak_ = std::max(peak_, used_);
  return true;
}

uint64_t MemoryBudget::reserveWhenFree(size_t bytes, std::function<void()> granted) {
  std::unique_lock lock(mu_);
  const uint64_t id = next_id_++;
  if (waiters_.empty() && bytes <= limit_ - used_) {
    used_ += bytes;
    peak_ = std::max(peak_, used_);
    lock.unlock();
    granted();
    return id;
  }
  waiters_.push_back({id, bytes, std::move(granted)});
  std::vector<std::function<void()>> reclaim;
  for (const auto& r : reclaimers_) reclaim.push_back(r.second);
  lock.unlock();
  for (auto& r : reclaim) r();
  return id;
}

uint64_t MemoryBudget::addReclaimer(std::function<void()> reclaim) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  reclaimers_.emplace_back(id, std::move(reclaim));
  return id;
}

void MemoryBudget::removeReclaimer(uint64_t id) {
  std::lock_guard lock(mu_);
  std::erase_if(reclaimers_, [id](const auto& r) { return r.first == id; });
}

bool MemoryBudget::cancel(uint64_t id) {
  std::lock_guard lock(mu_);
  const auto it =
      std::find_if(waiters_.begin(), waiters_.end(), [id](const Waiter& w) { return w.id == id; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

void MemoryBudget::release(size_t bytes) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    used_ -= std::min(bytes, used_);
    // First come, first served: the head waits until it fits, and nobody passes it.
    while (!waiters_.empty() && waiters_.front().bytes <= limit_ - used_) {
      used_ += waiters_.front().bytes;
      peak_ = std::max(peak_, used_);
      ready.push_back(std::move(waiters_.front().granted));
      waiters_.pop_front();
    }
  }
  for (auto& granted : ready) granted();
}

bool RefusalLog::firstFor(const std::string& host) {
  std::lock_guard lock(mu_);
  if (seen_.size() >= kMaxPeers) seen_.clear();
  return seen_.insert(host).second;
}

}  // namespace edgerig::bridge
