// A sparse-push share as it arrives, checked against the receiving model before any tensor is
// made: its body, its entries in either encoding (`exact`: int32 offsets and float32 values as two
// tensors; `compact`: varint offset gaps and float16 values in the body, see decentralized.proto),
// one value per offset, every offset inside the model, and a push-sum weight that can divide.
// Torch-free, so that all a peer controls is checked (and fuzzed: fuzz/fuzz_sparse.cpp) apart
// from LibTorch. The compact encoder is here too, beside its decoder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/tensor_layout.h"
#include "decentralized.pb.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

struct CheckedSparseShare {
  decentralized::SparseShare body;
  bool compact = false;
  TensorLayout indices, values;  // exact: where the two tensors lie in the message's data
  std::vector<int32_t> offsets;  // compact: the decoded offsets, strictly ascending
  std::vector<uint16_t> halves;  // compact: their values' float16 bit patterns
};

// `parameters`: the receiving model's flat size. Errors name the sender and what is wrong.
Result<CheckedSparseShare> checkSparseShare(const wire::AlgoMessage& m, int64_t parameters);

// The compact encoding's `gaps` of `n` strictly ascending, non-negative offsets.
std::string encodeOffsetGaps(const int32_t* offsets, int64_t n);

}  // namespace edgerig
