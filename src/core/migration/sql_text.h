// A small SQL tokenizer for slicing statement text (PostgreSQL's lexical rules for strings, quoted
// identifiers, dollar quotes, comments). The raw parse tree gives byte locations but no end positions and no
// text for raw expressions; the adapter uses these helpers to take exact slices of the user's SQL (CHECK and
// DEFAULT expressions, USING, index elements, partial-index predicates) and to find statement boundaries.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <string>
#include <vector>

namespace rubberduck::core::migration::sqltext {

struct Token {
    size_t begin = 0;
    size_t end = 0;  // one past the last byte
    int depth = 0;   // parenthesis depth before this token ('(' is at the outer depth, ')' too)
};

// First position >= pos that is not whitespace or inside a comment (-- to end of line, nested /* */).
size_t skip_space(const std::string &s, size_t pos);
// Tokens of s[begin, end): literals ('..', E'..', $tag$..$tag$), "quoted identifiers", words, numbers,
// operators (a run of operator characters), single punctuation ( ) , ; [ ] .
std::vector<Token> tokenize(const std::string &s, size_t begin, size_t end);
// Case-insensitive comparison of a token's text with a keyword (or punctuation such as "(").
bool token_is(const std::string &s, const Token &t, const char *word);
std::string token_text(const std::string &s, const Token &t);
// s[b, e) without leading/trailing whitespace and comments.
std::string trimmed(const std::string &s, size_t b, size_t e);
// Index of the ')' matching the '(' at tokens[open]; tokens.size() when unbalanced.
size_t matching_paren(const std::vector<Token> &tokens, size_t open);
// Byte offsets of top-level statement separators (';' at depth 0, outside literals and comments).
std::vector<size_t> statement_separators(const std::string &s);
// Positions of lines whose first non-blank character is a backslash outside any literal/comment (psql
// meta-commands such as \set, \i, \c); the position is the backslash's.
std::vector<size_t> meta_command_positions(const std::string &s);

}  // namespace rubberduck::core::migration::sqltext
