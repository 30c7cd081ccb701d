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

// Float tensors travel as float32, int32 tensors as int32, other integer and bool tensors as
// int64; the data is made contiguous and moved to the CPU first.
wire::TensorBlob toBlob(const torch::Tensor& t);
// Checks dtype, shape and byte length; the error says which is wrong.
Result<torch::Tensor> fromBlob(const wire::TensorBlob& b);

wire::ModelStateBlob toBlob(const ModelState& s);
// As fromBlob for each tensor; errors name the tensor.
Result<ModelState> fromBlob(const wire::ModelStateBlob& b);

// An algorithm message's tensors (wire::AlgoMessage: metadata in `tensors`, raw bytes one after
// another in `data`). appendTensor copies the bytes in once; reserve `data` first when sending
// several large ones.
void appendTensor(wire::AlgoMessage& m, const torch::Tensor& t);
// Copies, checked against the metadata; errors name the tensor's position.
Result<std::vector<torch::Tensor>> tensorsOf(const wire::AlgoMessage& m);
// The same without copying: the tensors view m's bytes, so m must outlive them, unchanged.
Result<std::vector<torch::Tensor>> tensorViewsOf(const wire::AlgoMessage& m);

// A serialized ModelStateBlob.
std::string stateBytes(const ModelState& s);
Result<ModelState> stateFromBytes(std::string_view bytes);

}  // namespace edgerig
