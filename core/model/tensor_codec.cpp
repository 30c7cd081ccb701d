#include "core/model/tensor_codec.h"

#include <bit>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace edgerig {
namespace {

// Raw bytes are copied as they are in memory; every device we target is little-endian.
static_assert(std::endian::native == std::endian::little,
              "tensor_codec copies raw bytes and needs a little-endian host");

torch::Dtype torchType(wire::DType d) {
  return d == wire::DTYPE_INT64 ? torch::kInt64 : torch::kFloat32;
}

}  // namespace

wire::TensorBlob toBlob(const torch::Tensor& t) {
  wire::TensorBlob blob;
  if (!t.defined()) return blob;
  torch::Tensor c = t.detach().cpu();
  if (c.is_floating_point() || c.is_complex()) {
    c = c.to(torch::kFloat32).contiguous();
    blob.set_dtype(wire::DTYPE_FLOAT32);
  } else {
    c = c.to(torch::kInt64).contiguous();
    blob.set_dtype(wire::DTYPE_INT64);
  }
  for (int64_t d : c.sizes()) blob.add_shape(d);
  blob.set_data(c.data_ptr(), c.numel() * static_cast<int64_t>(c.element_size()));
  return blob;
}

Result<torch::Tensor> fromBlob(const wire::TensorBlob& b) {
  if (b.dtype() != wire::DTYPE_FLOAT32 && b.dtype() != wire::DTYPE_INT64) {
    return invalidArgument("tensor blob has unknown dtype " + std::to_string(b.dtype()) +
                           ": the sender must use float32 or int64");
  }
  int64_t numel = 1;
  std::vector<int64_t> shape;
  for (int i = 0; i < b.shape_size(); ++i) {
    const int64_t d = b.shape(i);
    if (d < 0) {
      return invalidArgument("tensor blob dimension " + std::to_string(i) + " is negative (" +
                             std::to_string(d) + ")");
    }
    if (d > 0 && numel > std::numeric_limits<int64_t>::max() / d) {
      return invalidArgument("tensor blob shape overflows (dimension " + std::to_string(i) + " = " +
                             std::to_string(d) + ")");
    }
    numel *= d;
    shape.push_back(d);
  }
  const torch::Dtype dtype = torchType(b.dtype());
  const int64_t element = b.dtype() == wire::DTYPE_INT64 ? 8 : 4;
  if (numel > std::numeric_limits<int64_t>::max() / element ||
      static_cast<int64_t>(b.data().size()) != numel * element) {
    return invalidArgument("tensor blob has " + std::to_string(b.data().size()) +
                           " bytes of data but its shape and dtype need " + std::to_string(numel) +
                           " × " + std::to_string(element) +
                           " bytes: the blob is truncated or corrupt");
  }
  try {
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    if (numel > 0) std::memcpy(t.data_ptr(), b.data().data(), b.data().size());
    return t;
  } catch (const std::exception& e) {
    return internalError(std::string("cannot allocate tensor from blob: ") + e.what());
  }
}

wire::ModelStateBlob toBlob(const ModelState& s) {
  wire::ModelStateBlob blob;
  for (const auto& [name, tensor] : s) {
    wire::NamedTensor* named = blob.add_tensors();
    named->set_name(name);
    *named->mutable_tensor() = toBlob(tensor);
  }
  return blob;
}

Result<ModelState> fromBlob(const wire::ModelStateBlob& b) {
  ModelState state;
  std::unordered_set<std::string> seen;
  for (int i = 0; i < b.tensors_size(); ++i) {
    const wire::NamedTensor& named = b.tensors(i);
    if (named.name().empty()) {
      return invalidArgument("model state tensor #" + std::to_string(i) + " has no name");
    }
    if (!seen.insert(named.name()).second) {
      return invalidArgument("model state tensor '" + named.name() + "' appears twice");
    }
    Result<torch::Tensor> t = fromBlob(named.tensor());
    if (!t) {
      return Status(t.status().code(),
                    "model state tensor '" + named.name() + "': " + t.status().message());
    }
    state.emplace_back(named.name(), std::move(t).value());
  }
  return state;
}

std::string stateBytes(const ModelState& s) { return toBlob(s).SerializeAsString(); }

Result<ModelState> stateFromBytes(std::string_view bytes) {
  wire::ModelStateBlob blob;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !blob.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalidArgument("model state bytes (" + std::to_string(bytes.size()) +
                           " bytes) are not a serialized ModelStateBlob");
  }
  return fromBlob(blob);
}

}  // namespace edgerig
