// Fashion-MNIST from Debian's IDX files, and the errors for missing or damaged files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/data/dataset.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A scratch directory removed at the end of the test.
class ScratchDir : public testsupport::ScratchDir {
 public:
  ScratchDir() : testsupport::ScratchDir("tst-fmnist") {}
};

void appendBigEndian(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void writeGz(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

// A small IDX pair: `images` 28×28 images of value i, `labels` labels i % 10.
void writeIdx(const fs::path& dir, uint32_t images, uint32_t labels, uint32_t image_magic = 0x803,
              uint8_t label_offset = 0) {
  std::string img, lbl;
  appendBigEndian(img, image_magic);
  appendBigEndian(img, images);
  appendBigEndian(img, 28);
  appendBigEndian(img, 28);
  for (uint32_t i = 0; i < images; ++i) img.append(28 * 28, static_cast<char>(i));
  appendBigEndian(lbl, 0x801);
  appendBigEndian(lbl, labels);
  for (uint32_t i = 0; i < labels; ++i) lbl.push_back(static_cast<char>(i % 10 + label_offset));
  writeGz(dir / "t10k-images-idx3-ubyte.gz", img);
  writeGz(dir / "t10k-labels-idx1-ubyte.gz", lbl);
}

TEST(FashionMnist, DebianTrainAndTestSplitsLoad) {
  Result<Dataset> train = loadFashionMnist(kFashionMnistDir, Split::kTrain);
  ASSERT_TRUE(train.isOk()) << train.status().message();
  EXPECT_EQ(train->name, "fashion-mnist/train");
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(train->images.sizes(), (c10::IntArrayRef{60000, 1, 28, 28}));
  EXPECT_EQ(train->images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(train->labels.scalar_type(), torch::kInt64);
  // Normalised with the training set's own statistics: mean ~0, std ~1.
  EXPECT_NEAR(train->images.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(train->images.std().item<double>(), 1.0, 0.01);
  EXPECT_NEAR(train->images.min().item<double>(), -kFashionMnistMean / kFashionMnistStd, 1e-5);
  // Fashion-MNIST is balanced: 6000 of each class.
  const torch::Tensor counts = torch::bincount(train->labels);
  ASSERT_EQ(counts.size(0), 10);
  EXPECT_TRUE(torch::equal(counts, torch::full({10}, 6000, torch::kInt64)));

  Result<Dataset> test = loadFashionMnist("", Split::kTest);
  ASSERT_TRUE(test.isOk()) << test.status().message();
  EXPECT_EQ(test->name, "fashion-mnist/test");
  EXPECT_EQ(test->size(), 10000);
  EXPECT_GE(test->labels.min().item<int64_t>(), 0);
  EXPECT_LT(test->labels.max().item<int64_t>(), 10);
  EXPECT_NEAR(test->images.mean().item<double>(), 0.0, 0.05);
}

TEST(FashionMnist, LimitKeepsTheFirstSamples) {
  Result<Dataset> all = loadFashionMnist(kFashionMnistDir, Split::kTest);
  Result<Dataset> few = loadFashionMnist(kFashionMnistDir, Split::kTest, 100);
  ASSERT_TRUE(all.isOk() && few.isOk());
  EXPECT_EQ(few->size(), 100);
  EXPECT_TRUE(torch::equal(few->images, all->images.slice(0, 0, 100)));
  EXPECT_TRUE(torch::equal(few->labels, all->labels.slice(0, 0, 100)));
}

TEST(FashionMnist, MissingDirectoryNamesThePathAndThePackage) {
  Result<Dataset> d = loadFashionMnist("/nonexistent/edgerig-data", Split::kTrain);
  ASSERT_FALSE(d.isOk());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      contains(d.status().message(), "/nonexistent/edgerig-data/train-images-idx3-ubyte.gz"))
      << d.status().message();
  EXPECT_TRUE(contains(d.status().message(), "dataset-fashion-mnist")) << d.status().message();
}

TEST(FashionMnist, WellFormedSmallFilesLoad) {
  ScratchDir dir;
  writeIdx(dir.path(), 12, 12);
  Result<Dataset> d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_TRUE(d.isOk()) << d.status().message();
  EXPECT_EQ(d->size(), 12);
  EXPECT_EQ(d->labels[11].item<int64_t>(), 1);
  EXPECT_NEAR(d->images[5].mean().item<double>(),
              (5 / 255.0 - kFashionMnistMean) / kFashionMnistStd, 1e-5);
}

TEST(FashionMnist, TruncatedGzipNamesThePath) {
  ScratchDir dir;
  const fs::path images = dir.path() / "t10k-images-idx3-ubyte.gz";
  fs::copy_file(fs::path(kFashionMnistDir) / "t10k-images-idx3-ubyte.gz", images);
  fs::copy_file(fs::path(kFashionMnistDir) / "t10k-labels-idx1-ubyte.gz",
                dir.path() / "t10k-labels-idx1-ubyte.gz");
  fs::resize_file(images, fs::file_size(images) / 2);
  Result<Dataset> d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.status().message(), images.string())) << d.status().message();
  EXPECT_TRUE(contains(d.status().message(), "truncated")) << d.status().message();
}

TEST(FashionMnist, BadMagicNamesThePath) {
  ScratchDir dir;
  writeIdx(dir.path(), 3, 3, /*image_magic=*/0x801);
  Result<Dataset> d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.status().message(), (dir.path() / "t10k-images-idx3-ubyte.gz").string()))
      << d.status().message();
  EXPECT_TRUE(contains(d.status().message(), "magic")) << d.status().message();
}

TEST(FashionMnist, CountsThatDisagreeAreErrors) {
  ScratchDir dir;
  writeIdx(dir.path(), 5, 4);
  Result<Dataset> d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.status().message(), "5 images")) << d.status().message();
  EXPECT_TRUE(contains(d.status().message(), "4 labels")) << d.status().message();

  // A header that promises more records than the file holds.
  std::string img;
  appendBigEndian(img, 0x803);
  appendBigEndian(img, 9);
  appendBigEndian(img, 28);
  appendBigEndian(img, 28);
  img.append(28 * 28 * 2, '\0');
  writeGz(dir.path() / "t10k-images-idx3-ubyte.gz", img);
  d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.status().message(), "t10k-images-idx3-ubyte.gz")) << d.status().message();
}

TEST(FashionMnist, LabelsOutOfRangeAreErrors) {
  ScratchDir dir;
  writeIdx(dir.path(), 4, 4, 0x803, /*label_offset=*/7);  // labels 7, 8, 9, 10
  Result<Dataset> d = loadFashionMnist(dir.path().string(), Split::kTest);
  ASSERT_FALSE(d.isOk());
  EXPECT_TRUE(contains(d.status().message(), "label 10")) << d.status().message();
}

}  // namespace
}  // namespace edgerig
