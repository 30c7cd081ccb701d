// Where each tensor of a message lies in its bytes, checked before any tensor is made: dtype,
// shape, overflow and byte length. Torch-free, so that what a hostile peer controls is checked
// (and fuzzed: fuzz/fuzz_sparse.cpp) apart from LibTorch; tensor_codec builds on it.
#pragma once

#include <cstdint>
#include <vector>

#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

struct TensorLayout {
  wire::DType dtype = wire::DTYPE_FLOAT32;
  std::vector<int64_t> dims;
  int64_t numel = 0;
  int64_t bytes = 0;  // numel × the element size
  size_t offset = 0;  // where its bytes start in the message's (or blob's) data
};

// 4 for float32 and int32, 8 for int64.
int64_t elementBytes(wire::DType d);
bool knownDType(wire::DType d);

// The layouts of an algorithm message's tensors, one after another in m.data(), which they must
// fill exactly. Errors name the tensor's position and what is wrong.
Result<std::vector<TensorLayout>> layoutsOf(const wire::AlgoMessage& m);
// A blob's layout (offset 0); its data must be exactly its bytes.
Result<TensorLayout> layoutOf(const wire::TensorBlob& b);

}  // namespace edgerig
