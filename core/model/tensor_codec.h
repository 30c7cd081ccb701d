// Tensors become bytes at the edge of core: TensorBlob / ModelStateBlob (raw little-endian
// data plus shape and dtype) for the wire, and a ModelState as one byte string.
#pragma once

#include <torch/torch.h>

#include <string>
#include <string_view>

#include "core/model/model_state.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

// Float tensors travel as float32, integer and bool tensors as int64; the data is made
// contiguous and moved to the CPU first.
wire::TensorBlob toBlob(const torch::Tensor& t);
// Checks dtype, shape and byte length; the error says which is wrong.
Result<torch::Tensor> fromBlob(const wire::TensorBlob& b);

wire::ModelStateBlob toBlob(const ModelState& s);
// As fromBlob for each tensor; errors name the tensor.
Result<ModelState> fromBlob(const wire::ModelStateBlob& b);

// A serialized ModelStateBlob.
std::string stateBytes(const ModelState& s);
Result<ModelState> stateFromBytes(std::string_view bytes);

}  // namespace edgerig
