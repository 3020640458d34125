#include "faceatt/config.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "support/testing.h"

namespace faceatt {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(ConfigTest, DefaultsWhenNoFile) {
  auto c = Config::Load("/nonexistent/config.toml", false, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->recognition.match, "mean");
  EXPECT_TRUE(c->recognition.flip);
  EXPECT_EQ(c->image.max_bytes, 20'000'000);
  EXPECT_EQ(c->enroll.id_prefix, "EMP");
}

TEST(ConfigTest, MissingRequiredFileIsNotFound) {
  auto c = Config::Load("/nonexistent/config.toml", true, {});
  EXPECT_EQ(c.status().code(), Code::kNotFound);
}

TEST(ConfigTest, FileThenEnvironmentOverride) {
  TempDir dir;
  WriteFile(dir / "c.toml",
            "[recognition]\ntolerance = 0.45\nmatch = \"min\"\n[server]\nport = 9000\n");
  auto c = Config::Load(dir / "c.toml", true, {{"FACEATT_SERVER_PORT", "9100"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->recognition.tolerance, 0.45);
  EXPECT_EQ(c->recognition.match, "min");
  EXPECT_EQ(c->server.port, 9100);
}

TEST(ConfigTest, InvalidValuesNameKeyAndSource) {
  TempDir dir;
  WriteFile(dir / "c.toml", "[recognition]\ntolerance = 7\n");
  auto c = Config::Load(dir / "c.toml", true, {});
  ASSERT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("recognition.tolerance"), std::string::npos);
  EXPECT_NE(c.status().message().find(dir / "c.toml"), std::string::npos);

  auto e = Config::Load("", false, {{"FACEATT_SERVER_PORT", "eighty"}});
  ASSERT_EQ(e.status().code(), Code::kInvalidArgument);
  EXPECT_NE(e.status().message().find("server.port"), std::string::npos);
  EXPECT_NE(e.status().message().find("FACEATT_SERVER_PORT"), std::string::npos);

  // The example config.h's top comment quotes, word for word.
  auto t = Config::Load("", false, {{"FACEATT_RECOGNITION_TOLERANCE", "-1"}});
  EXPECT_EQ(t.status().message(),
            "recognition.tolerance = -1 (from FACEATT_RECOGNITION_TOLERANCE): must be between 0 "
            "and 2");

  WriteFile(dir / "d.toml", "[models]\ndetector = \"yolo\"\n");
  auto d = Config::Load(dir / "d.toml", true, {});
  ASSERT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_NE(d.status().message().find("hog, mmod"), std::string::npos);

  WriteFile(dir / "t.toml", "[server]\nport = \"80\"\n");
  EXPECT_EQ(Config::Load(dir / "t.toml", true, {}).status().code(), Code::kInvalidArgument);
}

TEST(ConfigTest, UnknownKeyAndSyntaxErrorsAreRefused) {
  TempDir dir;
  WriteFile(dir / "c.toml", "[recognition]\ntolerence = 0.5\n");
  auto c = Config::Load(dir / "c.toml", true, {});
  ASSERT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("recognition.tolerence"), std::string::npos);

  WriteFile(dir / "bad.toml", "[recognition\ntolerance = \n");
  auto bad = Config::Load(dir / "bad.toml", true, {});
  ASSERT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.toml:1"), std::string::npos);
}

// Issue 12: a misspelled key variable was ignored silently.
TEST(ConfigTest, UnknownFaceattEnvironmentVariablesAreWarnedAbout) {
  const std::map<std::string, std::string> env = {
      {"FACEATT_SERVER_DEVICE_KEY", "k"},   // misspelled: one letter short
      {"FACEATT_SERVER_DEVICE_KEYS", "k"},  // a key's variable
      {"FACEATT_CONFIG", "c.toml"},         // the CLI's own
      {"FACEATT_TEST_MODELS_DIR", "/m"},    // the tests' own
      {"FACEATT_WHATEVER_THIS_IS", "1"},    // nothing close
      {"HOME", "/root"}};
  const auto warnings = EnvironmentWarnings(env);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("FACEATT_SERVER_DEVICE_KEY "), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("did you mean FACEATT_SERVER_DEVICE_KEYS?"), std::string::npos);
  EXPECT_NE(warnings[1].find("FACEATT_WHATEVER_THIS_IS"), std::string::npos);
  EXPECT_EQ(warnings[1].find("did you mean"), std::string::npos) << warnings[1];
  EXPECT_TRUE(EnvironmentWarnings({{"FACEATT_RECOGNITION_TOLERANCE", "0.4"}}).empty());
}

TEST(ConfigTest, CrossKeyRules) {
  auto c = Config::Load(
      "", false,
      {{"FACEATT_QUALITY_MIN_BRIGHTNESS", "200"}, {"FACEATT_QUALITY_MAX_BRIGHTNESS", "100"}});
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
}

TEST(ConfigTest, SetFromFlagAndGet) {
  Config c;
  ASSERT_TRUE(c.Set("recognition.top_k", "5", "--top").ok());
  EXPECT_EQ(c.Get("recognition.top_k"), "5");
  EXPECT_FALSE(c.Set("recognition.top_k", "0", "--top").ok());
  EXPECT_FALSE(c.Set("no.such", "1", "--x").ok());
  ASSERT_TRUE(c.Set("server.admin_keys", "a, b", "env").ok());
  EXPECT_EQ(c.server.admin_keys, (std::vector<std::string>{"a", "b"}));
}

// The shipped config.toml lists every key, and its values are the built-in defaults.
TEST(ConfigTest, ShippedConfigListsEveryKeyWithDefaults) {
  const std::string path = testing::SourceDir() + "/config.toml";
  toml::table t = toml::parse_file(path);
  for (const auto& key : Config::Keys()) {
    const auto dot = key.find('.');
    EXPECT_TRUE(t[key.substr(0, dot)][key.substr(dot + 1)]) << key << " missing from config.toml";
  }
  auto shipped = Config::Load(path, true, {});
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  Config defaults;
  for (const auto& key : Config::Keys()) EXPECT_EQ(shipped->Get(key), defaults.Get(key)) << key;
}

// The README's table of keys names every key, with its comment in config.toml beside it.
TEST(ConfigTest, ReadmeTableNamesEveryKeyAndEveryKeyIsCommented) {
  const std::string readme = testing::ReadFile(testing::SourceDir() + "/README.md");
  const std::string shipped = testing::ReadFile(testing::SourceDir() + "/config.toml");
  for (const auto& key : Config::Keys()) {
    EXPECT_NE(readme.find("| `" + key + "` |"), std::string::npos)
        << key << " missing from README.md";
    const std::string name = key.substr(key.find('.') + 1);
    bool commented = false;
    for (size_t at = shipped.find("\n" + name + " "); at != std::string::npos && !commented;
         at = shipped.find("\n" + name + " ", at + 1)) {
      const std::string line = shipped.substr(at + 1, shipped.find('\n', at + 1) - at - 1);
      commented = line.find('#') != std::string::npos;
    }
    EXPECT_TRUE(commented) << key << " has no comment in config.toml";
  }
}

TEST(ConfigTest, UpdateConfigFileKeepsComments) {
  TempDir dir;
  WriteFile(dir / "c.toml",
            "# top comment\n[recognition]\ntolerance = 0  # accept below\nflip = "
            "true\n\n[server]\nport = 1\n");
  ASSERT_TRUE(UpdateConfigFile(dir / "c.toml",
                               {{"recognition.tolerance", "0.47"}, {"recognition.margin", "0.05"}})
                  .ok());
  const std::string text = testing::ReadFile(dir / "c.toml");
  EXPECT_NE(text.find("# top comment"), std::string::npos);
  EXPECT_NE(text.find("tolerance = 0.47  # accept below"), std::string::npos);
  auto c = Config::Load(dir / "c.toml", true, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->recognition.tolerance, 0.47);
  EXPECT_DOUBLE_EQ(c->recognition.margin, 0.05);
  EXPECT_EQ(c->server.port, 1);
}

}  // namespace
}  // namespace faceatt
