#include "nlp/watchlist.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "core/fs.h"

namespace aimara::nlp {

namespace {

using nlohmann::json;

// --- the YAML subset
// ------------------------------------------------------------------------------

struct YamlLine {
  int indent = 0;
  std::string text;  // without indentation, comment and trailing blanks
  int number = 0;    // 1-based line number
};

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Removes a comment: '#' at the start or after a blank, outside quotes.
std::string strip_comment(std::string_view s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      // A quote opens a quoted scalar only where a scalar starts.
      if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '[' || s[i - 1] == ',' || s[i - 1] == '-' ||
          s[i - 1] == ':') {
        quote = c;
      }
    } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
      return std::string(s.substr(0, i));
    }
  }
  return std::string(s);
}

class YamlParser {
 public:
  YamlParser(std::string_view doc, std::string_view origin) : origin_(origin) {
    int number = 0;
    size_t start = 0;
    while (start <= doc.size()) {
      size_t nl = doc.find('\n', start);
      if (nl == std::string_view::npos) nl = doc.size();
      std::string_view raw = doc.substr(start, nl - start);
      start = nl + 1;
      ++number;
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      size_t indent = 0;
      while (indent < raw.size() && raw[indent] == ' ') ++indent;
      if (indent < raw.size() && raw[indent] == '\t') {
        fail_line_ = number;
        fail_ = "tabs are not allowed in indentation";
        return;
      }
      std::string text = trim(strip_comment(raw.substr(indent)));
      if (text.empty() || text == "---" || text == "...") continue;
      lines_.push_back({static_cast<int>(indent), std::move(text), number});
    }
  }

  Result<json> parse() {
    if (!fail_.empty()) return error(fail_line_, fail_);
    if (lines_.empty()) return json::object();
    auto root = parse_node(lines_[0].indent);
    if (!root) return root;
    if (pos_ < lines_.size()) {
      return error(lines_[pos_].number, "unexpected indentation or content");
    }
    return root;
  }

 private:
  std::unexpected<Error> error(int line, std::string_view what) const {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}:{}: {} (aimara reads a YAML subset: block mappings and lists, "
                    "flow lists [a, b], quoted and plain scalars)",
                    origin_, line, what));
  }

  static bool is_item(const std::string& text) {
    return text == "-" || (text.size() >= 2 && text[0] == '-' && text[1] == ' ');
  }

  // Position of the ':' that ends a mapping key, or npos.
  static size_t key_colon(const std::string& text) {
    char quote = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
      } else if ((c == '\'' || c == '"') && i == 0) {
        quote = c;
      } else if (c == ':' && (i + 1 == text.size() || text[i + 1] == ' ')) {
        return i;
      }
    }
    return std::string::npos;
  }

  Result<json> parse_node(int indent) {
    if (is_item(lines_[pos_].text)) return parse_sequence(indent);
    if (key_colon(lines_[pos_].text) != std::string::npos) return parse_mapping(indent);
    const YamlLine& line = lines_[pos_++];
    return scalar(line.text, line.number);
  }

  Result<json> parse_sequence(int indent) {
    json out = json::array();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent && is_item(lines_[pos_].text)) {
      YamlLine& line = lines_[pos_];
      std::string content = line.text == "-" ? std::string() : trim(line.text.substr(2));
      if (content.empty()) {
        ++pos_;
        if (pos_ >= lines_.size() || lines_[pos_].indent <= indent) {
          out.push_back(nullptr);
          continue;
        }
        auto child = parse_node(lines_[pos_].indent);
        if (!child) return child;
        out.push_back(std::move(*child));
      } else if (is_item(content) || key_colon(content) != std::string::npos) {
        // "- name: x": a nested node starting on the item's line, indented where its text starts.
        const int child_indent = indent + static_cast<int>(line.text.size() - content.size());
        line.indent = child_indent;
        line.text = content;
        auto child = parse_node(child_indent);
        if (!child) return child;
        out.push_back(std::move(*child));
      } else {
        ++pos_;
        auto value = scalar(content, line.number);
        if (!value) return value;
        out.push_back(std::move(*value));
      }
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
      return error(lines_[pos_].number, "unexpected indentation");
    }
    return out;
  }

  Result<json> parse_mapping(int indent) {
    json out = json::object();
    while (pos_ < lines_.size() && lines_[pos_].indent == indent && !is_item(lines_[pos_].text)) {
      const YamlLine& line = lines_[pos_];
      size_t colon = key_colon(line.text);
      if (colon == std::string::npos) return error(line.number, "expected 'key: value'");
      auto key = scalar(trim(line.text.substr(0, colon)), line.number);
      if (!key) return key;
      if (!key->is_string() || key->get<std::string>().empty()) {
        return error(line.number, "a mapping key must be a non-empty string");
      }
      const std::string name = key->get<std::string>();
      if (out.contains(name)) return error(line.number, fmt::format("duplicate key '{}'", name));
      std::string rest = trim(line.text.substr(colon + 1));
      const int number = line.number;
      ++pos_;
      if (!rest.empty()) {
        auto value = scalar(rest, number);
        if (!value) return value;
        out[name] = std::move(*value);
      } else if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
        auto child = parse_node(lines_[pos_].indent);
        if (!child) return child;
        out[name] = std::move(*child);
      } else if (pos_ < lines_.size() && lines_[pos_].indent == indent &&
                 is_item(lines_[pos_].text)) {
        auto child = parse_sequence(indent);  // "key:\n- a\n- b" at the key's own indentation
        if (!child) return child;
        out[name] = std::move(*child);
      } else {
        out[name] = nullptr;
      }
    }
    if (pos_ < lines_.size() && lines_[pos_].indent > indent) {
      return error(lines_[pos_].number, "unexpected indentation");
    }
    return out;
  }

  Result<json> scalar(const std::string& text, int line) const {
    if (text.empty()) return json(nullptr);
    if (text[0] == '{') return error(line, "flow mappings {...} are not supported");
    if (text[0] == '[') return flow_list(text, line);
    if (text[0] == '"') {
      if (text.size() < 2 || text.back() != '"') return error(line, "unterminated \"string\"");
      try {
        return json::parse(text);  // YAML's double-quoted escapes are JSON's for what matters here
      } catch (const json::exception& e) {
        return error(line, fmt::format("bad \"string\": {}", e.what()));
      }
    }
    if (text[0] == '\'') {
      if (text.size() < 2 || text.back() != '\'') return error(line, "unterminated 'string'");
      std::string out;
      for (size_t i = 1; i + 1 < text.size(); ++i) {
        if (text[i] == '\'') {
          if (i + 2 < text.size() && text[i + 1] == '\'') {
            out.push_back('\'');
            ++i;
            continue;
          }
          return error(line, "a single quote inside 'string' must be doubled ('')");
        }
        out.push_back(text[i]);
      }
      return json(out);
    }
    if (text[0] == '&' || text[0] == '*' || text[0] == '!' || text[0] == '|' || text[0] == '>') {
      return error(
          line,
          fmt::format("'{}' (anchors, aliases, tags, block scalars) is not supported", text[0]));
    }
    if (text == "true" || text == "True" || text == "TRUE") return json(true);
    if (text == "false" || text == "False" || text == "FALSE") return json(false);
    if (text == "null" || text == "~") return json(nullptr);
    return json(text);
  }

  Result<json> flow_list(const std::string& text, int line) const {
    if (text.back() != ']') return error(line, "unterminated [list]");
    json out = json::array();
    std::string inner = text.substr(1, text.size() - 2);
    std::string item;
    char quote = 0;
    auto flush = [&]() -> Result<void> {
      std::string t = trim(item);
      item.clear();
      if (t.empty()) return {};
      if (t[0] == '[') return error(line, "nested flow lists are not supported");
      auto v = scalar(t, line);
      if (!v) return std::unexpected(v.error());
      out.push_back(std::move(*v));
      return {};
    };
    for (size_t i = 0; i < inner.size(); ++i) {
      char c = inner[i];
      if (quote != 0) {
        item.push_back(c);
        if (c == '\\' && quote == '"' && i + 1 < inner.size()) {
          item.push_back(inner[++i]);
        } else if (c == quote) {
          quote = 0;
        }
      } else if ((c == '\'' || c == '"') && trim(item).empty()) {
        quote = c;
        item.push_back(c);
      } else if (c == ',') {
        if (auto r = flush(); !r) return std::unexpected(r.error());
      } else {
        item.push_back(c);
      }
    }
    if (quote != 0) return error(line, "unterminated string in [list]");
    if (auto r = flush(); !r) return std::unexpected(r.error());
    return out;
  }

  std::string origin_;
  std::vector<YamlLine> lines_;
  size_t pos_ = 0;
  std::string fail_;
  int fail_line_ = 0;
};

// --- the document's shape
// -------------------------------------------------------------------------

std::unexpected<Error> shape_error(std::string_view origin, const std::string& where,
                                   std::string_view what) {
  return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: {}: {}", origin, where, what));
}

Result<std::string> required_string(const json& obj, const char* key, std::string_view origin,
                                    const std::string& where) {
  if (!obj.contains(key)) return shape_error(origin, where, fmt::format("'{}' is missing", key));
  const json& v = obj.at(key);
  if (!v.is_string() || v.get<std::string>().empty()) {
    return shape_error(origin, where, fmt::format("'{}' must be a non-empty string", key));
  }
  return v.get<std::string>();
}

Result<bool> optional_bool(const json& obj, const char* key, bool fallback, std::string_view origin,
                           const std::string& where) {
  if (!obj.contains(key) || obj.at(key).is_null()) return fallback;
  if (!obj.at(key).is_boolean()) {
    return shape_error(origin, where, fmt::format("'{}' must be true or false", key));
  }
  return obj.at(key).get<bool>();
}

Result<void> check_keys(const json& obj, std::initializer_list<std::string_view> allowed,
                        std::string_view origin, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return shape_error(origin, where, fmt::format("unknown field '{}' (expected {})", k, list));
    }
  }
  return {};
}

Result<WatchlistEntry> entity_from_json(const json& e, std::string_view origin,
                                        const std::string& where) {
  if (!e.is_object()) return shape_error(origin, where, "must be a mapping");
  if (auto r =
          check_keys(e, {"name", "label", "aliases", "case_sensitive", "names"}, origin, where);
      !r) {
    return std::unexpected(r.error());
  }
  WatchlistEntry out;
  auto name = required_string(e, "name", origin, where);
  if (!name) return std::unexpected(name.error());
  out.name = *name;
  auto label = required_string(e, "label", origin, where);
  if (!label) return std::unexpected(label.error());
  out.label = *label;
  if (e.contains("aliases") && !e.at("aliases").is_null()) {
    const json& a = e.at("aliases");
    if (a.is_string()) {
      out.aliases.push_back(a.get<std::string>());
    } else if (a.is_array()) {
      for (const json& x : a) {
        if (!x.is_string()) return shape_error(origin, where, "'aliases' must hold strings");
        out.aliases.push_back(x.get<std::string>());
      }
    } else {
      return shape_error(origin, where, "'aliases' must be a list of strings");
    }
  }
  auto cs = optional_bool(e, "case_sensitive", false, origin, where);
  if (!cs) return std::unexpected(cs.error());
  out.case_sensitive = *cs;
  if (e.contains("names") && !e.at("names").is_null()) {
    const json& n = e.at("names");
    if (!n.is_object()) return shape_error(origin, where, "'names' must map languages to names");
    for (const auto& [lang, v] : n.items()) {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return shape_error(origin, where, "'names' values must be non-empty strings");
      }
      out.names[lang] = v.get<std::string>();
    }
  }
  return out;
}

Result<PatternSpec> pattern_from_json(const json& p, std::string_view origin,
                                      const std::string& where) {
  if (!p.is_object()) return shape_error(origin, where, "must be a mapping");
  if (auto r = check_keys(p, {"label", "regex", "canonical", "caseless", "fold"}, origin, where);
      !r) {
    return std::unexpected(r.error());
  }
  PatternSpec out;
  auto label = required_string(p, "label", origin, where);
  if (!label) return std::unexpected(label.error());
  out.label = *label;
  auto regex = required_string(p, "regex", origin, where);
  if (!regex) return std::unexpected(regex.error());
  out.regex = *regex;
  if (p.contains("canonical") && !p.at("canonical").is_null()) {
    if (!p.at("canonical").is_string()) {
      return shape_error(origin, where, "'canonical' must be a string");
    }
    out.canonical = p.at("canonical").get<std::string>();
  }
  auto caseless = optional_bool(p, "caseless", true, origin, where);
  if (!caseless) return std::unexpected(caseless.error());
  out.caseless = *caseless;
  auto fold = optional_bool(p, "fold", false, origin, where);
  if (!fold) return std::unexpected(fold.error());
  out.fold = *fold;
  return out;
}

Result<WatchlistSpec> spec_from_json(const json& root, std::string_view origin) {
  if (root.is_null()) return WatchlistSpec{};
  if (!root.is_object()) {
    return shape_error(origin, "top level", "must be a mapping with 'entities' and/or 'patterns'");
  }
  if (auto r = check_keys(root, {"entities", "patterns"}, origin, "top level"); !r) {
    return std::unexpected(r.error());
  }
  WatchlistSpec spec;
  if (root.contains("entities") && !root.at("entities").is_null()) {
    const json& list = root.at("entities");
    if (!list.is_array()) return shape_error(origin, "entities", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      auto e = entity_from_json(list[i], origin, fmt::format("entities[{}]", i));
      if (!e) return std::unexpected(e.error());
      spec.entities.push_back(std::move(*e));
    }
  }
  if (root.contains("patterns") && !root.at("patterns").is_null()) {
    const json& list = root.at("patterns");
    if (!list.is_array()) return shape_error(origin, "patterns", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      auto p = pattern_from_json(list[i], origin, fmt::format("patterns[{}]", i));
      if (!p) return std::unexpected(p.error());
      spec.patterns.push_back(std::move(*p));
    }
  }
  return spec;
}

}  // namespace

const std::string& WatchlistEntry::name_for(std::string_view lang) const {
  auto it = names.find(std::string(lang));
  return it != names.end() ? it->second : name;
}

Result<WatchlistSpec> parse_watchlist(std::string_view document, std::string_view origin) {
  size_t first = document.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && document.substr(first, 3) == "\xEF\xBB\xBF") {
    document.remove_prefix(first + 3);  // a byte-order mark
    first = document.find_first_not_of(" \t\r\n");
  }
  if (first != std::string_view::npos && document[first] == '{') {
    json root;
    try {
      root = json::parse(document);
    } catch (const json::exception& e) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: not valid JSON: {}", origin, e.what()));
    }
    return spec_from_json(root, origin);
  }
  auto root = YamlParser(document, origin).parse();
  if (!root) return std::unexpected(root.error());
  return spec_from_json(*root, origin);
}

Result<WatchlistSpec> load_watchlist_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("watchlist file '{}' does not exist", path.string()));
  }
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  return parse_watchlist(*text, path.string());
}

WatchlistSpec default_watchlist() {
  auto spec = parse_watchlist(default_watchlist_document(), "default_watchlist.json");
  // The document is part of the binary and covered by tests: a failure here is a bug.
  if (!spec) throw std::logic_error("built-in watchlist: " + spec.error().to_string());
  return std::move(*spec);
}

// --- the phrase index
// -----------------------------------------------------------------------------

Result<Watchlist> Watchlist::build(std::vector<WatchlistEntry> entries) {
  Watchlist w;
  w.entries_ = std::move(entries);
  for (size_t i = 0; i < w.entries_.size(); ++i) {
    const WatchlistEntry& e = w.entries_[i];
    std::vector<const std::string*> phrases = {&e.name};
    for (const auto& a : e.aliases) phrases.push_back(&a);
    for (const auto& [lang, n] : e.names) phrases.push_back(&n);
    bool any = false;
    for (const std::string* phrase : phrases) {
      std::string key = fold_key(*phrase);
      if (key.empty()) continue;
      any = true;
      size_t words = 1;
      for (size_t k = 0; k < key.size(); ++k) {
        if (key[k] != ' ') continue;
        w.index_.try_emplace(key.substr(0, k));  // a prefix: the scan may go on
        ++words;
      }
      w.max_words_ = std::max(w.max_words_, words);
      Phrase p{static_cast<uint32_t>(i), e.case_sensitive,
               e.case_sensitive ? fold_key(*phrase, FoldMode::kAccentsOnly) : std::string()};
      auto& list = w.index_[key];
      const bool shadowed = std::any_of(list.begin(), list.end(), [&](const Phrase& q) {
        return !q.case_sensitive || (p.case_sensitive && q.cased_key == p.cased_key);
      });
      if (!shadowed) {
        list.push_back(std::move(p));
        ++w.phrase_count_;
      }
    }
    if (!any) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("watchlist entry '{}' ({}) has no word to match", e.name, e.label));
    }
  }
  return w;
}

std::vector<PhraseMatch> Watchlist::find(std::string_view text, const FoldedText& folded) const {
  std::vector<PhraseMatch> out;
  if (index_.empty()) return out;
  const std::string& f = folded.text;
  const auto words = word_spans(f);
  std::string key;
  size_t i = 0;
  while (i < words.size()) {
    key.clear();
    size_t best_words = 0;
    uint32_t best_entry = 0;
    for (size_t n = 1; n <= max_words_ && i + n <= words.size(); ++n) {
      const auto [wb, we] = words[i + n - 1];
      if (n > 1) {
        const size_t gap_begin = words[i + n - 2].second;
        if (!joins_words(std::string_view(f).substr(gap_begin, wb - gap_begin))) break;
        key.push_back(' ');
      }
      key.append(f, wb, we - wb);
      auto it = index_.find(key);
      if (it == index_.end()) break;
      for (const Phrase& p : it->second) {
        if (p.case_sensitive) {
          auto [ob, oe] = folded.to_original(words[i].first, we);
          if (fold_key(text.substr(ob, oe - ob), FoldMode::kAccentsOnly) != p.cased_key) continue;
        }
        best_words = n;
        best_entry = p.entry;
        break;
      }
    }
    if (best_words == 0) {
      ++i;
      continue;
    }
    auto [ob, oe] = folded.to_original(words[i].first, words[i + best_words - 1].second);
    out.push_back({ob, oe, best_entry});
    i += best_words;
  }
  return out;
}

const WatchlistEntry* Watchlist::lookup(std::string_view phrase) const {
  auto it = index_.find(fold_key(phrase));
  if (it == index_.end()) return nullptr;
  for (const Phrase& p : it->second) {
    if (p.case_sensitive && fold_key(phrase, FoldMode::kAccentsOnly) != p.cased_key) continue;
    return &entries_[p.entry];
  }
  return nullptr;
}

}  // namespace aimara::nlp
