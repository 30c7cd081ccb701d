// Weights and tensors to bytes and back, and the errors for blobs that do not fit.
#include <gtest/gtest.h>

#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void expectSameState(const ModelState& a, const ModelState& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second.scalar_type(), b[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
}

TEST(TensorCodec, TensorRoundTripKeepsShapeDtypeAndBits) {
  torch::manual_seed(3);
  const torch::Tensor f = torch::randn({3, 4, 5});
  const torch::Tensor i = torch::randint(-1000, 1000, {7}, torch::kInt64);
  const torch::Tensor empty = torch::zeros({0, 3});
  const torch::Tensor scalar = torch::tensor(2.5f);
  for (const torch::Tensor& t : {f, i, empty, scalar}) {
    wire::TensorBlob blob = toBlob(t);
    EXPECT_EQ(blob.data().size(), static_cast<size_t>(t.numel()) * t.element_size());
    Result<torch::Tensor> back = fromBlob(blob);
    ASSERT_TRUE(back.isOk()) << back.status().message();
    EXPECT_EQ(back->scalar_type(), t.scalar_type());
    EXPECT_TRUE(torch::equal(*back, t));
  }
}

TEST(TensorCodec, NonContiguousAndOtherDtypesAreConverted) {
  const torch::Tensor t = torch::arange(12, torch::kFloat64).reshape({3, 4}).t();
  Result<torch::Tensor> back = fromBlob(toBlob(t));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(*back, t.to(torch::kFloat32)));
  Result<torch::Tensor> labels = fromBlob(toBlob(torch::tensor({1, 2, 3}, torch::kUInt8)));
  ASSERT_TRUE(labels.isOk());
  EXPECT_EQ(labels->scalar_type(), torch::kInt64);
}

TEST(TensorCodec, WireBytesAreLittleEndian) {
  wire::TensorBlob blob = toBlob(torch::tensor({int64_t{0x0102}}));
  ASSERT_EQ(blob.data().size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(blob.data()[0]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(blob.data()[1]), 0x01);
}

TEST(TensorCodec, BadBlobsSayWhatIsWrong) {
  wire::TensorBlob blob = toBlob(torch::ones({2, 3}));
  wire::TensorBlob short_data = blob;
  short_data.mutable_data()->resize(20);
  Result<torch::Tensor> r = fromBlob(short_data);
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(contains(r.status().message(), "20 bytes")) << r.status().message();

  wire::TensorBlob no_dtype = blob;
  no_dtype.set_dtype(wire::DTYPE_UNSPECIFIED);
  r = fromBlob(no_dtype);
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(contains(r.status().message(), "dtype")) << r.status().message();

  wire::TensorBlob unknown = blob;
  unknown.set_dtype(static_cast<wire::DType>(77));
  EXPECT_FALSE(fromBlob(unknown).isOk());

  wire::TensorBlob negative = blob;
  negative.set_shape(0, -2);
  r = fromBlob(negative);
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(contains(r.status().message(), "negative")) << r.status().message();

  wire::TensorBlob huge = blob;
  huge.set_shape(0, int64_t{1} << 40);
  huge.set_shape(1, int64_t{1} << 40);
  EXPECT_FALSE(fromBlob(huge).isOk());
}

TEST(TensorCodec, ModelStateRoundTripThroughBlobsAndBytes) {
  Result<LayerChain> chain = LayerChain::build("lenet5", 8);
  ASSERT_TRUE(chain.isOk());
  const ModelState state = stateOf(*StageModule(*chain, 0, chain->numLayers()));
  ASSERT_EQ(state.size(), 10u);  // 5 weighted layers, weight + bias each
  EXPECT_EQ(state.front().first, "conv1.0.weight");

  Result<ModelState> from_blob = fromBlob(toBlob(state));
  ASSERT_TRUE(from_blob.isOk()) << from_blob.status().message();
  expectSameState(state, *from_blob);

  const std::string bytes = stateBytes(state);
  Result<ModelState> from_bytes = stateFromBytes(bytes);
  ASSERT_TRUE(from_bytes.isOk()) << from_bytes.status().message();
  expectSameState(state, *from_bytes);

  EXPECT_FALSE(stateFromBytes(std::string_view(bytes).substr(0, bytes.size() / 2)).isOk());
}

TEST(TensorCodec, BadTensorInAStateIsNamed) {
  Result<LayerChain> chain = LayerChain::build("mlp", 8);
  ASSERT_TRUE(chain.isOk());
  wire::ModelStateBlob blob = toBlob(stateOf(*StageModule(*chain, 0, 3)));
  blob.mutable_tensors(3)->mutable_tensor()->mutable_data()->pop_back();
  Result<ModelState> r = fromBlob(blob);
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(contains(r.status().message(), "fc2.0.bias")) << r.status().message();
}

TEST(ModelState, LoadStateCopiesWeightsIntoAnotherModel) {
  Result<LayerChain> a = LayerChain::build("cnn", 1), b = LayerChain::build("cnn", 2);
  ASSERT_TRUE(a.isOk() && b.isOk());
  StageModule source(*a, 0, 6), target(*b, 0, 6);
  ASSERT_TRUE(loadState(*target, stateOf(*source)).isOk());
  expectSameState(stateOf(*source), stateOf(*target));
}

TEST(ModelState, StagesLoadTheirSliceAndMergeBackToTheWhole) {
  Result<LayerChain> a = LayerChain::build("cnn", 1), b = LayerChain::build("cnn", 2);
  ASSERT_TRUE(a.isOk() && b.isOk());
  const ModelState whole = stateOf(*StageModule(*a, 0, 6));
  StageModule head(*b, 0, 3), tail(*b, 3, 6);
  ASSERT_TRUE(loadState(*head, whole).isOk());
  ASSERT_TRUE(loadState(*tail, whole).isOk());
  expectSameState(whole, mergeStates({stateOf(*head), stateOf(*tail)}));
}

TEST(ModelState, StateIsADetachedCopy) {
  Result<LayerChain> chain = LayerChain::build("mlp", 1);
  ASSERT_TRUE(chain.isOk());
  StageModule m(*chain, 0, 3);
  const ModelState s = stateOf(*m);
  EXPECT_FALSE(s[0].second.requires_grad());
  torch::NoGradGuard no_grad;
  m->parameters()[0].add_(1.0f);
  EXPECT_FALSE(torch::equal(s[0].second, m->parameters()[0]));
}

TEST(ModelState, MismatchesAreNamedAndChangeNothing) {
  Result<LayerChain> cnn = LayerChain::build("cnn", 1), lenet = LayerChain::build("lenet5", 1);
  ASSERT_TRUE(cnn.isOk() && lenet.isOk());
  StageModule target(*cnn, 0, 6);
  const ModelState before = stateOf(*target);

  ModelState wrong_shape = before;
  wrong_shape[2].second = torch::zeros({3, 3});  // conv2.0.weight
  Status st = loadState(*target, wrong_shape);
  ASSERT_FALSE(st.isOk());
  EXPECT_TRUE(contains(st.message(), "conv2.0.weight")) << st.message();
  EXPECT_TRUE(contains(st.message(), "shape")) << st.message();

  ModelState missing(before.begin(), before.end() - 1);  // without fc2.0.bias
  ModelState zeros = missing;
  for (auto& [name, t] : zeros) t = torch::zeros_like(t);
  st = loadState(*target, zeros);
  ASSERT_FALSE(st.isOk());
  EXPECT_TRUE(contains(st.message(), "fc2.0.bias")) << st.message();
  expectSameState(before, stateOf(*target));  // the tensors before the missing one untouched

  ModelState wrong_dtype = before;
  wrong_dtype[0].second = wrong_dtype[0].second.to(torch::kFloat64);
  st = loadState(*target, wrong_dtype);
  ASSERT_FALSE(st.isOk());
  EXPECT_TRUE(contains(st.message(), "conv1.0.weight")) << st.message();

  st = loadState(*target, stateOf(*StageModule(*lenet, 0, 7)));
  ASSERT_FALSE(st.isOk());
  EXPECT_TRUE(contains(st.message(), "conv1.0.weight")) << st.message();
}

}  // namespace
}  // namespace edgerig
