// CSV quoting and parsing, and how the run folder prints numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/runlog/csv.h"
#include "core/runlog/numbers.h"

namespace edgerig {
namespace {

TEST(CsvField, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csvField("plain"), "plain");
  EXPECT_EQ(csvField(""), "");
  EXPECT_EQ(csvField("a,b"), "\"a,b\"");
  EXPECT_EQ(csvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csvField("spaces stay"), "spaces stay");
}

TEST(CsvRow, JoinsWithCommasAndEndsInNewline) {
  EXPECT_EQ(csvRow({"1.5", "a,b", "", "q\""}), "1.5,\"a,b\",,\"q\"\"\"\n");
  EXPECT_EQ(csvRow({}), "\n");
}

TEST(ParseCsv, ReadsQuotedFieldsWithCommasQuotesAndNewlines) {
  auto rows = parseCsv("a,\"b,c\",\"d\"\"e\"\n\"x\ny\",,z\n");
  ASSERT_TRUE(rows) << rows.status().message();
  std::vector<std::vector<std::string>> expected{{"a", "b,c", "d\"e"}, {"x\ny", "", "z"}};
  EXPECT_EQ(*rows, expected);
}

TEST(ParseCsv, AcceptsCrLfAndAMissingFinalNewline) {
  auto rows = parseCsv("h1,h2\r\n1,2\r\n3,\"4\r\n5\"");
  ASSERT_TRUE(rows) << rows.status().message();
  std::vector<std::vector<std::string>> expected{{"h1", "h2"}, {"1", "2"}, {"3", "4\r\n5"}};
  EXPECT_EQ(*rows, expected);
}

TEST(ParseCsv, EmptyTextHasNoRowsAndAnEmptyLineIsOneEmptyField) {
  EXPECT_TRUE(parseCsv("")->empty());
  auto rows = parseCsv("a\n\nb,\n");
  ASSERT_TRUE(rows);
  std::vector<std::vector<std::string>> expected{{"a"}, {""}, {"b", ""}};
  EXPECT_EQ(*rows, expected);
}

TEST(ParseCsv, RecordsKnowTheLineTheyStartOn) {
  auto records = parseCsvRecords("h\n\"multi\nline\"\nnext\n");
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].line, 4);
}

TEST(ParseCsv, ErrorsNameTheLine) {
  auto unclosed = parseCsv("a,b\nc,d\n\"open,e\nf\n");
  ASSERT_FALSE(unclosed);
  EXPECT_NE(unclosed.status().message().find("line 3"), std::string::npos)
      << unclosed.status().message();
  EXPECT_NE(unclosed.status().message().find("never closed"), std::string::npos);

  auto after_quote = parseCsv("a\n\"x\"y,1\n");
  ASSERT_FALSE(after_quote);
  EXPECT_NE(after_quote.status().message().find("line 2"), std::string::npos)
      << after_quote.status().message();

  auto bare_quote = parseCsv("a\nb\nab\"c\n");
  ASSERT_FALSE(bare_quote);
  EXPECT_NE(bare_quote.status().message().find("line 3"), std::string::npos)
      << bare_quote.status().message();
}

TEST(ParseCsv, DropsATornTailOnlyWhenAsked) {
  const std::string text = "a,b\n1,\"cut in the mid";
  EXPECT_FALSE(parseCsvRecords(text));
  auto records = parseCsvRecords(text, /*drop_torn_tail=*/true);
  ASSERT_TRUE(records) << records.status().message();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (std::vector<std::string>{"a", "b"}));
}

TEST(ParseCsv, RoundTripsRandomFields) {
  std::mt19937 rng(20240521);
  const std::string alphabet = "ab ,\"\r\n.-é";
  std::vector<std::vector<std::string>> rows;
  std::string text;
  for (int r = 0; r < 300; ++r) {
    std::vector<std::string> row(1 + rng() % 6);
    for (auto& field : row) {
      const size_t len = rng() % 8;
      for (size_t i = 0; i < len; ++i) field += alphabet[rng() % alphabet.size()];
    }
    // A row of one empty field is how an empty line reads; csvRow writes it that way too.
    text += csvRow(row);
    rows.push_back(row);
  }
  auto parsed = parseCsv(text);
  ASSERT_TRUE(parsed) << parsed.status().message();
  EXPECT_EQ(*parsed, rows);
}

TEST(Numbers, ValuesAreShortAndExact) {
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(-2.5), "-2.5");
  EXPECT_EQ(formatValue(1234567890123.0), "1234567890123");
  EXPECT_EQ(formatValue(1e12), "1000000000000");
  EXPECT_EQ(formatValue(1e20), "1e+20");
  EXPECT_EQ(formatValue(123456792.0), "123456792");  // a whole float stays exact
  EXPECT_EQ(formatValue(static_cast<double>(0.3f)), "0.3");
  EXPECT_EQ(formatValue(std::nan("")), "nan");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-inf");

  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (int i = 0; i < 2000; ++i) {
    const double v = unit(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20);
    auto back = parseDouble(formatValue(v));
    ASSERT_TRUE(back) << formatValue(v);
    EXPECT_EQ(*back, v) << formatValue(v);
    const float f = static_cast<float>(v);
    EXPECT_EQ(static_cast<float>(*parseDouble(formatValue(f))), f);
  }
}

TEST(Numbers, TimeHasMillisecondResolution) {
  EXPECT_EQ(formatTime(0), "0.000");
  EXPECT_EQ(formatTime(12.3456), "12.346");
  EXPECT_EQ(formatTime(3600.5), "3600.500");
}

TEST(Numbers, ParsingTakesWholeFieldsOnly) {
  EXPECT_EQ(parseDouble("1e-3"), 1e-3);
  EXPECT_EQ(parseDouble("+2"), 2.0);
  EXPECT_TRUE(std::isinf(*parseDouble("inf")));
  EXPECT_FALSE(parseDouble(""));
  EXPECT_FALSE(parseDouble("1.5x"));
  EXPECT_FALSE(parseDouble(" 1"));
  EXPECT_EQ(parseInt64("-42"), -42);
  EXPECT_FALSE(parseInt64("4.2"));
  EXPECT_FALSE(parseInt64("99999999999999999999"));
}

}  // namespace
}  // namespace edgerig
