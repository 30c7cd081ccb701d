// A sparse-push share as it arrives, checked against the receiving model before any tensor is
// made: its body, its two tensors (int32 indices, float32 values, one value per index), every
// index inside the model, and a push-sum weight that can divide. Torch-free, so that all a peer
// controls is checked (and fuzzed: fuzz/fuzz_sparse.cpp) apart from LibTorch.
#pragma once

#include <cstdint>

#include "core/model/tensor_layout.h"
#include "decentralized.pb.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

struct CheckedSparseShare {
  decentralized::SparseShare body;
  TensorLayout indices, values;
};

// `parameters`: the receiving model's flat size. Errors name the sender and what is wrong.
Result<CheckedSparseShare> checkSparseShare(const wire::AlgoMessage& m, int64_t parameters);

}  // namespace edgerig
