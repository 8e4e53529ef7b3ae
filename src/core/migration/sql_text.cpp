#include "core/migration/sql_text.h"

#include <cctype>
#include <cstring>

namespace rubberduck::core::migration::sqltext {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool ident_char(char c) {
    return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}
bool op_char(char c) {
    return std::strchr("+-*/<>=~!@#%^&|`?", c) != nullptr && c != '\0';
}

// End of a quoted run starting at the opening quote s[pos]; `backslash` for E'' strings.
size_t quoted_end(const std::string &s, size_t pos, size_t end, char q, bool backslash) {
    size_t i = pos + 1;
    while (i < end) {
        if (backslash && s[i] == '\\') {
            i += 2;
            continue;
        }
        if (s[i] == q) {
            if (i + 1 < end && s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        ++i;
    }
    return end;
}

// $tag$ at pos: returns the end of the whole dollar-quoted literal, or 0 when pos does not open one.
size_t dollar_end(const std::string &s, size_t pos, size_t end) {
    size_t i = pos + 1;
    if (i < end && std::isdigit(static_cast<unsigned char>(s[i]))) return 0;  // $1 parameter
    while (i < end && s[i] != '$') {
        if (!ident_char(s[i]) || s[i] == '$') return 0;
        ++i;
    }
    if (i >= end) return 0;
    std::string tag = s.substr(pos, i - pos + 1);
    size_t close = s.find(tag, i + 1);
    if (close == std::string::npos || close + tag.size() > end) return end;
    return close + tag.size();
}

size_t comment_end(const std::string &s, size_t pos, size_t end) {
    if (s.compare(pos, 2, "--") == 0) {
        size_t nl = s.find('\n', pos);
        return nl == std::string::npos || nl > end ? end : nl + 1;
    }
    if (s.compare(pos, 2, "/*") == 0) {
        int depth = 0;
        size_t i = pos;
        while (i < end) {
            if (s.compare(i, 2, "/*") == 0) {
                ++depth;
                i += 2;
            } else if (s.compare(i, 2, "*/") == 0) {
                i += 2;
                if (--depth == 0) return i;
            } else {
                ++i;
            }
        }
        return end;
    }
    return pos;
}

size_t skip_space_to(const std::string &s, size_t pos, size_t end) {
    while (pos < end) {
        if (is_space(s[pos])) {
            ++pos;
            continue;
        }
        size_t c = comment_end(s, pos, end);
        if (c == pos) break;
        pos = c;
    }
    return pos;
}

size_t token_end_at(const std::string &s, size_t i, size_t end) {
    char c = s[i];
    if (c == '\'') return quoted_end(s, i, end, '\'', false);
    if (c == '"') return quoted_end(s, i, end, '"', false);
    if ((c == 'e' || c == 'E') && i + 1 < end && s[i + 1] == '\'')
        return quoted_end(s, i + 1, end, '\'', true);
    if (std::strchr("bBxXnN", c) && i + 1 < end && s[i + 1] == '\'')
        return quoted_end(s, i + 1, end, '\'', false);
    if ((c == 'u' || c == 'U') && i + 2 < end && s[i + 1] == '&' && (s[i + 2] == '\'' || s[i + 2] == '"'))
        return quoted_end(s, i + 2, end, s[i + 2], false);
    if (c == '$') {
        size_t d = dollar_end(s, i, end);
        if (d) return d;
        size_t j = i + 1;
        while (j < end && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        return j;
    }
    if (ident_start(c)) {
        size_t j = i + 1;
        while (j < end && ident_char(s[j])) ++j;
        return j;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < end && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
        size_t j = i;
        while (j < end && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == '_')) {
            if ((s[j] == 'e' || s[j] == 'E') && j + 1 < end && (s[j + 1] == '+' || s[j + 1] == '-')) ++j;
            ++j;
        }
        return j;
    }
    if (c == ':' && i + 1 < end && s[i + 1] == ':') return i + 2;
    if (op_char(c)) {
        size_t j = i;
        while (j < end && op_char(s[j]) && s.compare(j, 2, "--") != 0 && s.compare(j, 2, "/*") != 0) ++j;
        return j == i ? i + 1 : j;
    }
    return i + 1;  // ( ) , ; [ ] . : \ and anything else
}

}  // namespace

size_t skip_space(const std::string &s, size_t pos) {
    return skip_space_to(s, pos, s.size());
}

std::vector<Token> tokenize(const std::string &s, size_t begin, size_t end) {
    std::vector<Token> out;
    if (end > s.size()) end = s.size();
    int depth = 0;
    size_t i = skip_space_to(s, begin, end);
    while (i < end) {
        Token t;
        t.begin = i;
        t.end = token_end_at(s, i, end);
        if (s[i] == ')' && depth > 0) --depth;
        t.depth = depth;
        if (s[i] == '(') ++depth;
        out.push_back(t);
        i = skip_space_to(s, t.end, end);
    }
    return out;
}

bool token_is(const std::string &s, const Token &t, const char *word) {
    size_t n = std::strlen(word);
    if (t.end - t.begin != n) return false;
    for (size_t i = 0; i < n; ++i)
        if (std::tolower(static_cast<unsigned char>(s[t.begin + i])) !=
            std::tolower(static_cast<unsigned char>(word[i])))
            return false;
    return true;
}

std::string token_text(const std::string &s, const Token &t) {
    return s.substr(t.begin, t.end - t.begin);
}

std::string trimmed(const std::string &s, size_t b, size_t e) {
    if (e > s.size()) e = s.size();
    std::vector<Token> toks = tokenize(s, b, e);
    if (toks.empty()) return {};
    return s.substr(toks.front().begin, toks.back().end - toks.front().begin);
}

size_t matching_paren(const std::vector<Token> &tokens, size_t open) {
    if (open >= tokens.size()) return tokens.size();
    int depth = tokens[open].depth;
    for (size_t i = open + 1; i < tokens.size(); ++i)
        if (tokens[i].depth == depth && tokens[i].end - tokens[i].begin == 1 &&
            tokens[i].begin < tokens[i].end) {
            // a ')' at the opening depth closes it
            return i;
        }
    return tokens.size();
}

std::vector<size_t> statement_separators(const std::string &s) {
    std::vector<size_t> out;
    for (const Token &t : tokenize(s, 0, s.size()))
        if (t.depth == 0 && t.end - t.begin == 1 && s[t.begin] == ';') out.push_back(t.begin);
    return out;
}

std::vector<size_t> meta_command_positions(const std::string &s) {
    std::vector<size_t> out;
    for (const Token &t : tokenize(s, 0, s.size()))
        if (t.end - t.begin == 1 && s[t.begin] == '\\') out.push_back(t.begin);
    return out;
}

}  // namespace rubberduck::core::migration::sqltext
