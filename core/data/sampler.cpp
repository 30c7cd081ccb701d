#include "core/data/sampler.h"

#include <algorithm>
#include <numeric>

#include "core/data/random_stream.h"

namespace edgerig {

EpochSampler::EpochSampler(int64_t dataset_size, int64_t batch_size, uint64_t seed)
    : dataset_size_(std::max<int64_t>(dataset_size, 0)),
      batch_size_(std::max<int64_t>(batch_size, 1)),
      seed_(seed) {}

int64_t EpochSampler::batchesPerEpoch() const { return dataset_size_ / batch_size_; }

int64_t EpochSampler::epochOf(int64_t iteration) const {
  const int64_t per_epoch = batchesPerEpoch();
  return per_epoch == 0 ? 0 : std::max<int64_t>(iteration, 0) / per_epoch;
}

std::vector<int64_t> EpochSampler::permutation(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), int64_t{0});
  RandomStream rng(mixSeed(seed_, static_cast<uint64_t>(epoch)));
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[rng.below(i)]);
  }
  return order;
}

// Recomputing the permutation per call (well under a millisecond for 60000 samples) keeps the
// sampler a stateless, thread-safe value.
std::vector<int64_t> EpochSampler::batch(int64_t iteration) const {
  const int64_t per_epoch = batchesPerEpoch();
  if (per_epoch == 0 || iteration < 0) return {};
  const std::vector<int64_t> order = permutation(iteration / per_epoch);
  const auto begin = order.begin() + (iteration % per_epoch) * batch_size_;
  return {begin, begin + batch_size_};
}

std::vector<std::vector<int64_t>> evalBatches(int64_t n, int64_t batch_size) {
  batch_size = std::max<int64_t>(batch_size, 1);
  std::vector<std::vector<int64_t>> batches;
  for (int64_t start = 0; start < n; start += batch_size) {
    std::vector<int64_t> b(static_cast<size_t>(std::min(batch_size, n - start)));
    std::iota(b.begin(), b.end(), start);
    batches.push_back(std::move(b));
  }
  return batches;
}

}  // namespace edgerig
