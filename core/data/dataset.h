// Datasets as whole tensors in memory: Fashion-MNIST from Debian's IDX files, or a synthetic
// 10-class set for fast tests; and gathering mini-batches from them by index.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

struct Dataset {
  std::string name;      // "fashion-mnist/train"
  torch::Tensor images;  // N×1×28×28 float32, normalised ((x/255) - 0.2860) / 0.3530
  torch::Tensor labels;  // N int64 in [0, 10)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

enum class Split { kTrain, kTest };

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr double kFashionMnistMean = 0.2860, kFashionMnistStd = 0.3530;

// Missing or corrupt file (bad magic, wrong counts, truncated gzip, mismatched image/label
// counts): an error naming the path and, for a missing file, the Debian package to install.
// limit > 0 keeps the first `limit` samples (and reads only those).
Result<Dataset> loadFashionMnist(const std::string& dir, Split split, int64_t limit = 0);

// A learnable synthetic 10-class dataset of 1×28×28 images, deterministic from the seed
// (train and test drawn from the same distribution with different streams), for fast tests.
Dataset makeSynthetic(int64_t n, Split split, uint64_t seed);

// name: "fashion-mnist" (dir empty -> kFashionMnistDir) or "synthetic" (synthetic_size
// samples, default 4096 train / 1024 test). Unknown name: error listing the known ones.
Result<Dataset> loadDataset(const std::string& name, const std::string& dir, Split split,
                            int64_t limit, int64_t synthetic_size, uint64_t seed);

// Rows `indices` (any order, repeats allowed) as (images, labels); out-of-range index -> error
// naming it.
Result<std::pair<torch::Tensor, torch::Tensor>> gatherBatch(const Dataset& d,
                                                            const std::vector<int64_t>& indices);

}  // namespace edgerig
