#include <gtest/gtest.h>

#include "core/migration/sql_text.h"

using namespace rubberduck::core::migration::sqltext;

TEST(SqlText, TokenizesLiteralsIdentifiersAndComments) {
    std::string s = "SELECT 'a;b''c', E'x\\'y', $tag$ ; $tag$, \"we;ird\" -- c;\n /* n /* e */ ; */ FROM t";
    auto toks = tokenize(s, 0, s.size());
    std::vector<std::string> texts;
    for (const auto &t : toks) texts.push_back(token_text(s, t));
    std::vector<std::string> want = {"SELECT",        "'a;b''c'", ",",          "E'x\\'y'", ",",
                                     "$tag$ ; $tag$", ",",        "\"we;ird\"", "FROM",     "t"};
    EXPECT_EQ(texts, want);
    EXPECT_TRUE(statement_separators(s).empty());
}

TEST(SqlText, SeparatorsOnlyAtTopLevel) {
    std::string s = "SET a = 1; CREATE FUNCTION f() AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT ';'";
    auto seps = statement_separators(s);
    ASSERT_EQ(seps.size(), 2u);
    EXPECT_EQ(s[seps[0]], ';');
    EXPECT_EQ(s.substr(seps[0] - 1, 2), "1;");
    EXPECT_EQ(s.substr(seps[1] - 3, 4), "sql;");
}

TEST(SqlText, ParenthesisDepthAndMatching) {
    std::string s = "CHECK (a > (b + 1) AND c IN (1, 2)) NOT VALID";
    auto toks = tokenize(s, 0, s.size());
    ASSERT_TRUE(token_is(s, toks[1], "("));
    size_t close = matching_paren(toks, 1);
    ASSERT_LT(close, toks.size());
    EXPECT_EQ(s.substr(toks[2].begin, toks[close - 1].end - toks[2].begin), "a > (b + 1) AND c IN (1, 2)");
    EXPECT_TRUE(token_is(s, toks[close + 1], "not"));
    EXPECT_EQ(toks[2].depth, 1);
    EXPECT_EQ(toks[close].depth, 0);
}

TEST(SqlText, OperatorsAndCasts) {
    std::string s = "x::numeric/100 >= -1 --tail";
    auto toks = tokenize(s, 0, s.size());
    std::vector<std::string> texts;
    for (const auto &t : toks) texts.push_back(token_text(s, t));
    // x :: numeric / 100 >= - 1: a unary minus is an operator token followed by the number
    ASSERT_GE(texts.size(), 6u);
    EXPECT_EQ(texts[0], "x");
    EXPECT_EQ(texts[1], "::");
    EXPECT_EQ(texts[2], "numeric");
    EXPECT_EQ(texts[4], "100");
    EXPECT_EQ(texts.back(), "1");
}

TEST(SqlText, TrimmedDropsCommentsAndSpace) {
    std::string s = "\n  -- leading comment\n  /* block */ ALTER TABLE t ADD x int  -- trailing\n ";
    EXPECT_EQ(trimmed(s, 0, s.size()), "ALTER TABLE t ADD x int");
    EXPECT_EQ(trimmed(s, 0, 5), "");
}

TEST(SqlText, MetaCommandsOutsideLiteralsOnly) {
    std::string s = "SELECT E'a\\nb', 'c:\\d';\n\\set x 1\n  \\i other.sql\n";
    auto pos = meta_command_positions(s);
    ASSERT_EQ(pos.size(), 2u);
    EXPECT_EQ(s.substr(pos[0], 4), "\\set");
    EXPECT_EQ(s.substr(pos[1], 2), "\\i");
    EXPECT_TRUE(meta_command_positions("SELECT '\\x'").empty());
}

TEST(SqlText, UnterminatedInputsDoNotOverrun) {
    for (std::string s : {"'abc", "\"abc", "$q$ abc", "/* abc", "E'abc\\", "(((", ")))"}) {
        auto toks = tokenize(s, 0, s.size());
        for (const auto &t : toks) {
            EXPECT_LE(t.end, s.size());
            EXPECT_LT(t.begin, t.end);
        }
        trimmed(s, 0, s.size());
        statement_separators(s);
    }
}
