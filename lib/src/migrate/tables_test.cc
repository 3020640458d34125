#include "migrate/tables.h"

#include <gtest/gtest.h>

namespace faceatt::migrate {
namespace {

// The shape of mysqldump's output (comments, conditional comments, one
// extended INSERT with escapes and NULL).
const char* const kDump = R"(-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `employee_id` varchar(50) NOT NULL,
  `name` varchar(100) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `users` WRITE;
INSERT INTO `users` VALUES (1,'EMP001','Kim \'Jay\'; \\ x'),
(2,'EMP002',NULL),(3,'EMP003','김민준');
UNLOCK TABLES;
)";

TEST(TablesTest, ReadsAMysqlDump) {
  auto t = ParseMysqlDump(kDump, "db.sql");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const Table& users = t->at("users");
  EXPECT_EQ(users.columns, (std::vector<std::string>{"id", "employee_id", "name"}));
  ASSERT_EQ(users.rows.size(), 3u);
  EXPECT_EQ(users.Get(users.rows[0], "name"), "Kim 'Jay'; \\ x");
  EXPECT_EQ(users.Get(users.rows[1], "name"), std::nullopt);
  EXPECT_EQ(users.Get(users.rows[2], "name"), "김민준");
  EXPECT_EQ(users.Where(users.rows[1]), "db.sql:12");
}

TEST(TablesTest, MalformedDumpsNameFileAndLine) {
  const std::string dump = kDump;
  struct Case {
    std::string text;
    std::string expect;
  };
  auto swap = [&](const std::string& from, const std::string& to) {
    std::string s = dump;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const Case cases[] = {
      {swap("(2,'EMP002',NULL)", "(2,'EMP002')"), "db.sql:12: a row of 2 values"},
      {swap("'EMP003','김민준');", "'EMP003','김민준"), "unterminated string"},
      {swap("(2,'EMP002',NULL)", "(2,'EMP002',NULL"), "db.sql:12: unexpected '(3'"},
      {swap("INSERT INTO `users`", "INSERT INTO `people`"), "db.sql:11: INSERT INTO people before"},
      {swap("(2,'EMP002',NULL)", "(2,EMP002,NULL)"), "unexpected 'EMP002'"},
      {dump.substr(0, dump.find("(3,")), "db.sql:12: expected '('"},
  };
  for (const Case& c : cases) {
    auto t = ParseMysqlDump(c.text, "db.sql");
    ASSERT_FALSE(t.ok()) << c.expect;
    EXPECT_EQ(t.status().code(), Code::kBadInput);
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos) << t.status().message();
  }
}

TEST(TablesTest, ReadsMysqlBatchTsv) {
  auto t = ParseMysqlTsv("employee_id\tname\tts\nEMP001\tA\\tB\\nC\tNULL\nEMP002\tD\\\\E\t2024\n",
                         "users.tsv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->Get(t->rows[0], "name"), "A\tB\nC");
  EXPECT_EQ(t->Get(t->rows[0], "ts"), std::nullopt);
  EXPECT_EQ(t->Get(t->rows[1], "name"), "D\\E");
  EXPECT_EQ(t->Where(t->rows[1]), "users.tsv:3");
  auto bad = ParseMysqlTsv("a\tb\n1\t2\n3\n", "users.tsv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("users.tsv:3: 1 fields where the header has 2"),
            std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(ParseMysqlTsv("", "e.tsv").ok());
}

}  // namespace
}  // namespace faceatt::migrate
