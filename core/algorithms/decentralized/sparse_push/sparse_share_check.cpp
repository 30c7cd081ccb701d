#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"

#include <cmath>
#include <cstring>
#include <string>

namespace edgerig {

Result<CheckedSparseShare> checkSparseShare(const wire::AlgoMessage& m, int64_t parameters) {
  const auto bad = [&](const std::string& why) {
    return invalidArgument("a sparse-push share from device " + std::to_string(m.from()) + " " +
                           why);
  };
  CheckedSparseShare out;
  if (!m.body().UnpackTo(&out.body)) {
    return bad("is not a SparseShare (its body is " + m.body().type_url() + ")");
  }
  if (!std::isfinite(out.body.weight()) || out.body.weight() <= 0) {
    return bad("has push-sum weight " + std::to_string(out.body.weight()) +
               ": a share's weight is a positive, finite number");
  }
  if (out.body.iteration() < 0) {
    return bad("is of iteration " + std::to_string(out.body.iteration()));
  }
  auto layouts = layoutsOf(m);
  if (!layouts) return bad("is malformed: " + layouts.status().message());
  if (layouts->size() != 2 || (*layouts)[0].dtype != wire::DTYPE_INT32 ||
      (*layouts)[1].dtype != wire::DTYPE_FLOAT32 || (*layouts)[0].dims.size() != 1 ||
      (*layouts)[1].dims.size() != 1) {
    return bad("is without its int32 indices and float32 values (" +
               std::to_string(layouts->size()) + " tensors)");
  }
  out.indices = (*layouts)[0];
  out.values = (*layouts)[1];
  if (out.indices.numel != out.values.numel) {
    return bad("has " + std::to_string(out.indices.numel) + " indices but " +
               std::to_string(out.values.numel) + " values");
  }
  if (out.indices.numel > parameters) {
    return bad("has " + std::to_string(out.indices.numel) + " entries; this model has " +
               std::to_string(parameters) + " parameters");
  }
  const char* at = m.data().data() + out.indices.offset;
  for (int64_t i = 0; i < out.indices.numel; ++i) {
    int32_t index = 0;
    std::memcpy(&index, at + i * 4, 4);  // little-endian on the wire, as on every target
    if (index < 0 || index >= parameters) {
      return bad("has index " + std::to_string(index) + " at position " + std::to_string(i) +
                 "; this model has " + std::to_string(parameters) + " parameters");
    }
  }
  return out;
}

}  // namespace edgerig
