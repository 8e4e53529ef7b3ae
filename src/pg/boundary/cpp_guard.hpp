// The C -> C++ guard (cpp-in-postgres.md R6): every extern "C" entry point runs its C++ work through
// cpp_guard so that no exception ever unwinds into PostgreSQL's C frames (which would abort the process and
// restart the cluster). The message is copied out, the catch block is left, and only then is ereport(ERROR)
// raised.
#pragma once

#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "pg/postgres.hpp"

namespace rubberduck::pg {

// Bad input from the user: maps to SQLSTATE 22023 (invalid_parameter_value) unless another code is given.
struct UserError : std::runtime_error {
    int sqlstate;
    std::string hint;
    UserError(const std::string &msg, int code = ERRCODE_INVALID_PARAMETER_VALUE, std::string hint_text = {})
        : std::runtime_error(msg), sqlstate(code), hint(std::move(hint_text)) {}
};

struct GuardFailure {
    bool failed = false;
    int sqlstate = ERRCODE_INTERNAL_ERROR;
    char message[1024] = {0};
    char hint[512] = {0};
};

void raise_guard_failure(const GuardFailure &failure, int elevel);  // PG regime; never returns for ERROR

inline void copy_message(char *dst, size_t cap, const char *src) {
    size_t n = std::strlen(src);
    if (n >= cap) n = cap - 1;
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

// Runs fn; turns any exception into a GuardFailure. Never throws.
template <typename Fn>
void run_catching(Fn &&fn, GuardFailure &failure) noexcept {
    auto fail = [&failure](int code, const char *msg) {
        failure.failed = true;
        failure.sqlstate = code;
        copy_message(failure.message, sizeof failure.message, msg);
    };
    try {
        fn();
    } catch (const UserError &e) {
        fail(e.sqlstate, e.what());
        copy_message(failure.hint, sizeof failure.hint, e.hint.c_str());
    } catch (const std::invalid_argument &e) {
        fail(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
    } catch (const std::bad_alloc &) {
        fail(ERRCODE_OUT_OF_MEMORY, "out of memory in rubberduck_agents");
    } catch (const std::exception &e) {
        fail(ERRCODE_INTERNAL_ERROR, e.what());
    } catch (...) {
        fail(ERRCODE_INTERNAL_ERROR, "unknown C++ exception in rubberduck_agents");
    }
}

// Runs fn (C++ regime). On any exception, reports it at elevel (ERROR by default) after leaving the catch
// block. With elevel < ERROR (e.g. WARNING in the postmaster) it reports and returns a value-initialised
// result.
template <typename Fn>
auto cpp_guard(Fn &&fn, int elevel = ERROR) -> decltype(fn()) {
    using Result = decltype(fn());
    GuardFailure failure;
    if constexpr (std::is_void_v<Result>) {
        run_catching(fn, failure);
        if (failure.failed) raise_guard_failure(failure, elevel);
    } else {
        Result result{};
        run_catching([&] { result = fn(); }, failure);
        if (failure.failed) raise_guard_failure(failure, elevel);
        return result;
    }
}

}  // namespace rubberduck::pg
