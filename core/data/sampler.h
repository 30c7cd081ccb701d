// Which samples make up each mini-batch, from the run's seed alone, so that the controller,
// every agent and a single-device reference agree without sending the data.
#pragma once

#include <cstdint>
#include <vector>

namespace edgerig {

// Mini-batch indices for any iteration, from (seed, epoch) alone: a fresh permutation per
// epoch with std::mt19937_64 + Fisher–Yates (independent of torch's RNG), the last partial
// batch dropped. The controller and a single-device reference produce the same batches.
class EpochSampler {
 public:
  EpochSampler(int64_t dataset_size, int64_t batch_size, uint64_t seed);

  // 0 when the dataset is smaller than one batch; batch() is then empty.
  int64_t batchesPerEpoch() const;
  int64_t epochOf(int64_t iteration) const;
  // Iterations count from 0 across epochs: iteration i is batch i % batchesPerEpoch() of
  // epoch epochOf(i).
  std::vector<int64_t> batch(int64_t iteration) const;
  // The whole permutation of [0, dataset_size) used in `epoch`.
  std::vector<int64_t> permutation(int64_t epoch) const;

 private:
  int64_t dataset_size_;
  int64_t batch_size_;
  uint64_t seed_;
};

// Sequential chunks [0, n) of at most batch_size, for evaluation.
std::vector<std::vector<int64_t>> evalBatches(int64_t n, int64_t batch_size);

}  // namespace edgerig
