#include "core/model/tensor_layout.h"

#include <limits>
#include <string>

namespace edgerig {
namespace {

// The element count of a shape, or an error naming what is wrong with it. Counts stay below
// 2^63 / 8 so that the byte length of any dtype fits too.
template <typename Shape>
Result<int64_t> elementsOf(const Shape& shape, std::vector<int64_t>* dims) {
  int64_t numel = 1;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    const int64_t d = shape[i];
    if (d < 0) {
      return invalidArgument("dimension " + std::to_string(i) + " is negative (" +
                             std::to_string(d) + ")");
    }
    if (d > 0 && numel > std::numeric_limits<int64_t>::max() / 8 / d) {
      return invalidArgument("shape overflows (dimension " + std::to_string(i) + " = " +
                             std::to_string(d) + ")");
    }
    numel *= d;
    dims->push_back(d);
  }
  return numel;
}

template <typename Shape>
Result<TensorLayout> layout(wire::DType dtype, const Shape& shape, size_t offset,
                            size_t available) {
  if (!knownDType(dtype)) {
    return invalidArgument("unknown dtype " + std::to_string(static_cast<int>(dtype)) +
                           ": the sender must use float32, int32 or int64");
  }
  TensorLayout l;
  l.dtype = dtype;
  l.offset = offset;
  // A shape has at most as many dimensions as the message has bytes of shape: bounded.
  auto numel = elementsOf(shape, &l.dims);
  if (!numel) return numel.status();
  l.numel = *numel;
  l.bytes = l.numel * elementBytes(dtype);
  if (static_cast<uint64_t>(l.bytes) > available) {
    return invalidArgument("needs " + std::to_string(l.bytes) + " bytes but only " +
                           std::to_string(available) + " are there: it is truncated");
  }
  return l;
}

}  // namespace

int64_t elementBytes(wire::DType d) { return d == wire::DTYPE_INT64 ? 8 : 4; }

bool knownDType(wire::DType d) {
  return d == wire::DTYPE_FLOAT32 || d == wire::DTYPE_INT64 || d == wire::DTYPE_INT32;
}

Result<std::vector<TensorLayout>> layoutsOf(const wire::AlgoMessage& m) {
  std::vector<TensorLayout> out;
  size_t offset = 0;
  const size_t size = m.data().size();
  for (int i = 0; i < m.tensors_size(); ++i) {
    const auto& meta = m.tensors(i);
    auto l = layout(meta.dtype(), meta.shape(), offset, size - offset);
    if (!l) {
      return invalidArgument("tensor " + std::to_string(i) +
                             " of the message: " + l.status().message());
    }
    offset += static_cast<size_t>(l->bytes);
    out.push_back(std::move(l).value());
  }
  if (offset != size) {
    return invalidArgument("the message has " + std::to_string(size - offset) +
                           " bytes of data its tensors do not describe");
  }
  return out;
}

Result<TensorLayout> layoutOf(const wire::TensorBlob& b) {
  auto l = layout(b.dtype(), b.shape(), 0, std::numeric_limits<size_t>::max());
  if (!l) return invalidArgument("tensor blob: " + l.status().message());
  if (static_cast<uint64_t>(l->bytes) != b.data().size()) {
    return invalidArgument("tensor blob has " + std::to_string(b.data().size()) +
                           " bytes of data but its shape and dtype need " +
                           std::to_string(l->bytes) + ": the blob is corrupt");
  }
  return l;
}

}  // namespace edgerig
