#include "migrate/tables.h"

#include <algorithm>

namespace faceatt::migrate {
namespace {

// A cursor over the dump that knows its line.
struct Cursor {
  const std::string& text;
  size_t pos = 0;
  int line = 1;

  bool done() const { return pos >= text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  char next() {
    const char c = text[pos++];
    if (c == '\n') ++line;
    return c;
  }
  void SkipSpace() {
    while (!done() && std::isspace(static_cast<unsigned char>(peek()))) next();
  }
};

bool StartsWith(const std::string& s, size_t at, const char* prefix) {
  return s.compare(at, std::char_traits<char>::length(prefix), prefix) == 0;
}

std::string Unquote(std::string name) {
  if (name.size() >= 2 && name.front() == '`' && name.back() == '`')
    name = name.substr(1, name.size() - 2);
  return name;
}

// One SQL value: NULL, a number, or a quoted string with MySQL's escapes.
Result<std::optional<std::string>> ParseValue(Cursor& c, const std::string& where) {
  c.SkipSpace();
  if (c.peek() == '\'') {
    c.next();
    std::string out;
    for (;;) {
      if (c.done()) return Status::BadInput(where + ": unterminated string");
      char ch = c.next();
      if (ch == '\\') {
        if (c.done()) return Status::BadInput(where + ": unterminated string");
        const char e = c.next();
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case '0':
            out += '\0';
            break;
          case 'Z':
            out += '\x1a';
            break;
          case 'b':
            out += '\b';
            break;
          default:
            out += e;
        }
      } else if (ch == '\'') {
        if (c.peek() != '\'') return std::optional<std::string>(out);
        out += c.next();
      } else {
        out += ch;
      }
    }
  }
  std::string word;
  while (!c.done() && c.peek() != ',' && c.peek() != ')' &&
         !std::isspace(static_cast<unsigned char>(c.peek())))
    word += c.next();
  if (word == "NULL") return std::optional<std::string>();
  if (word.empty()) return Status::BadInput(where + ": expected a value");
  const bool numeric = std::all_of(word.begin(), word.end(), [](char ch) {
    return std::isdigit(static_cast<unsigned char>(ch)) || ch == '-' || ch == '+' || ch == '.' ||
           ch == 'e' || ch == 'E';
  });
  if (!numeric) return Status::BadInput(where + ": unexpected '" + word + "'");
  return std::optional<std::string>(word);
}

// "(`a`,`b`)" after a table name, or an empty list.
std::vector<std::string> ParseColumnList(Cursor& c) {
  std::vector<std::string> cols;
  c.SkipSpace();
  if (c.peek() != '(') return cols;
  c.next();
  std::string cur;
  while (!c.done() && c.peek() != ')') {
    const char ch = c.next();
    if (ch == ',') {
      cols.push_back(Unquote(cur));
      cur.clear();
    } else if (!std::isspace(static_cast<unsigned char>(ch))) {
      cur += ch;
    }
  }
  if (!c.done()) c.next();
  if (!cur.empty()) cols.push_back(Unquote(cur));
  return cols;
}

std::string ReadName(Cursor& c) {
  c.SkipSpace();
  std::string name;
  if (c.peek() == '`') {
    name += c.next();
    while (!c.done() && c.peek() != '`') name += c.next();
    if (!c.done()) name += c.next();
  } else {
    while (!c.done() && (std::isalnum(static_cast<unsigned char>(c.peek())) || c.peek() == '_'))
      name += c.next();
  }
  return Unquote(name);
}

void SkipLine(Cursor& c) {
  while (!c.done() && c.peek() != '\n') c.next();
  if (!c.done()) c.next();
}

// Skips one statement up to its ';' outside quotes.
void SkipStatement(Cursor& c) {
  bool quoted = false;
  while (!c.done()) {
    const char ch = c.next();
    if (quoted && ch == '\\' && !c.done()) {
      c.next();
    } else if (ch == '\'') {
      quoted = !quoted;
    } else if (ch == ';' && !quoted) {
      return;
    }
  }
}

}  // namespace

int Table::Column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int>(i);
  return -1;
}

std::optional<std::string> Table::Get(const TableRow& row, const std::string& column) const {
  const int i = Column(column);
  if (i < 0 || i >= static_cast<int>(row.values.size())) return std::nullopt;
  return row.values[i];
}

std::string Table::Where(const TableRow& row) const {
  return file + ":" + std::to_string(row.line);
}

Result<std::map<std::string, Table>> ParseMysqlDump(const std::string& text,
                                                    const std::string& file) {
  std::map<std::string, Table> tables;
  Cursor c{text};
  for (;;) {
    c.SkipSpace();
    if (c.done()) break;
    const std::string where = file + ":" + std::to_string(c.line);
    if (StartsWith(text, c.pos, "--") || StartsWith(text, c.pos, "#")) {
      SkipLine(c);
    } else if (StartsWith(text, c.pos, "/*")) {
      const size_t end = text.find("*/", c.pos);
      if (end == std::string::npos) return Status::BadInput(where + ": unterminated comment");
      while (c.pos < end + 2) c.next();
      if (c.peek() == ';') c.next();
    } else if (StartsWith(text, c.pos, "CREATE TABLE")) {
      for (int i = 0; i < 12; ++i) c.next();
      c.SkipSpace();
      if (StartsWith(text, c.pos, "IF NOT EXISTS"))
        for (int i = 0; i < 13; ++i) c.next();
      Table t;
      t.file = file;
      const std::string name = ReadName(c);
      c.SkipSpace();
      if (name.empty() || c.peek() != '(')
        return Status::BadInput(where + ": CREATE TABLE without a column list");
      c.next();
      // One definition per line in mysqldump's output: a column starts with a backtick.
      for (;;) {
        SkipLine(c);
        if (c.done()) return Status::BadInput(where + ": CREATE TABLE " + name + " is not closed");
        c.SkipSpace();
        if (c.peek() == ')') break;
        if (c.peek() == '`') t.columns.push_back(ReadName(c));
      }
      SkipStatement(c);
      tables[name] = std::move(t);
    } else if (StartsWith(text, c.pos, "INSERT INTO")) {
      for (int i = 0; i < 11; ++i) c.next();
      const std::string name = ReadName(c);
      auto it = tables.find(name);
      if (it == tables.end())
        return Status::BadInput(where + ": INSERT INTO " + name + " before its CREATE TABLE");
      Table& t = it->second;
      std::vector<std::string> cols = ParseColumnList(c);
      if (!cols.empty() && cols != t.columns)
        return Status::BadInput(where + ": INSERT INTO " + name +
                                " names columns that differ from its CREATE TABLE");
      c.SkipSpace();
      if (!StartsWith(text, c.pos, "VALUES"))
        return Status::BadInput(where + ": expected VALUES after INSERT INTO " + name);
      for (int i = 0; i < 6; ++i) c.next();
      for (;;) {
        c.SkipSpace();
        const std::string row_where = file + ":" + std::to_string(c.line);
        if (c.peek() != '(')
          return Status::BadInput(row_where + ": expected '(' in INSERT INTO " + name);
        TableRow row;
        row.line = c.line;
        c.next();
        for (;;) {
          FACEATT_ASSIGN_OR_RETURN(auto v, ParseValue(c, file + ":" + std::to_string(c.line)));
          row.values.push_back(std::move(v));
          c.SkipSpace();
          if (c.peek() == ',') {
            c.next();
            continue;
          }
          if (c.peek() == ')') {
            c.next();
            break;
          }
          return Status::BadInput(file + ":" + std::to_string(c.line) +
                                  ": expected ',' or ')' in INSERT INTO " + name);
        }
        if (row.values.size() != t.columns.size())
          return Status::BadInput(row_where + ": a row of " + std::to_string(row.values.size()) +
                                  " values in INSERT INTO " + name + ", which has " +
                                  std::to_string(t.columns.size()) + " columns");
        t.rows.push_back(std::move(row));
        c.SkipSpace();
        if (c.peek() == ',') {
          c.next();
          continue;
        }
        if (c.peek() == ';') {
          c.next();
          break;
        }
        return Status::BadInput(file + ":" + std::to_string(c.line) +
                                ": expected ',' or ';' after a row of INSERT INTO " + name);
      }
    } else {
      SkipStatement(c);  // DROP, LOCK, SET, ...
    }
  }
  return tables;
}

Result<Table> ParseMysqlTsv(const std::string& text, const std::string& file) {
  Table t;
  t.file = file;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() && pos >= text.size()) break;
    std::vector<std::optional<std::string>> fields;
    std::string cur;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == '\t') {
        if (cur == "NULL")
          fields.emplace_back();
        else
          fields.emplace_back(cur);
        cur.clear();
      } else if (line[i] == '\\' && i + 1 < line.size()) {
        const char e = line[++i];
        cur += e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e;
      } else {
        cur += line[i];
      }
    }
    if (t.columns.empty()) {
      for (auto& f : fields) t.columns.push_back(f.value_or("NULL"));
      continue;
    }
    if (fields.size() != t.columns.size())
      return Status::BadInput(file + ":" + std::to_string(line_no) + ": " +
                              std::to_string(fields.size()) + " fields where the header has " +
                              std::to_string(t.columns.size()));
    t.rows.push_back({line_no, std::move(fields)});
  }
  if (t.columns.empty()) return Status::BadInput(file + ": empty (no header line)");
  return t;
}

}  // namespace faceatt::migrate
