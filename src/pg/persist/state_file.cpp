#include "pg/persist/state_file.hpp"

#include <cerrno>
#include <cstdio>

#include "pg/boundary/cpp_guard.hpp"

extern "C" {
#include "storage/fd.h"
}

namespace rubberduck::pg {
namespace {

constexpr int kMaxSections = 16;
StateSectionProvider providers[kMaxSections];
int provider_count = 0;

struct AgentSection {
    core::runtime::AgentId agent;
    StateSectionProvider provider;
};
AgentSection agent_sections[kMaxSections];
int agent_section_count = 0;

// Plain stdio, no ereport inside: callers report. Returns an errno-style message on failure.
bool write_bytes_atomically(const std::string &path, const std::vector<unsigned char> &bytes,
                            std::string &error) {
    std::string tmp = path + ".tmp." + std::to_string(MyProcPid);
    FILE *f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        error = "could not create \"" + tmp + "\": " + strerror(errno);
        return false;
    }
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
              fsync(fileno(f)) == 0;
    int saved = errno;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "could not write \"" + path + "\": " + strerror(ok ? errno : saved);
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

enum class ReadOutcome { Ok, Missing, Failed };

ReadOutcome read_bytes(const std::string &path, std::vector<unsigned char> &bytes, std::string &error) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (errno == ENOENT) return ReadOutcome::Missing;
        error = "could not open \"" + path + "\": " + strerror(errno);
        return ReadOutcome::Failed;
    }
    unsigned char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
    bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) {
        error = "could not read \"" + path + "\"";
        return ReadOutcome::Failed;
    }
    return ReadOutcome::Ok;
}

}  // namespace

void register_shmem_state_section(const StateSectionProvider &provider) {
    if (provider_count >= kMaxSections) elog(ERROR, "rubberduck_agents: too many state sections");
    providers[provider_count++] = provider;
}

std::string shmem_state_path() {
    return std::string(PGSTAT_STAT_PERMANENT_DIRECTORY "/rubberduck_agents.state");
}

std::string agent_state_path(const char *agent_name) {
    return std::string(PGSTAT_STAT_PERMANENT_DIRECTORY "/rubberduck_agents.") + agent_name + ".state";
}

bool write_state_file(const std::string &path, const core::state::StateSections &sections) {
    GuardFailure failure;
    std::string io_error;
    bool written = false;
    run_catching(
        [&] { written = write_bytes_atomically(path, core::state::encode_state(sections), io_error); },
        failure);
    if (failure.failed) io_error = failure.message;
    if (!written) ereport(WARNING, (errmsg("rubberduck_agents: could not save state: %s", io_error.c_str())));
    return written;
}

std::optional<core::state::StateSections> read_state_file(const std::string &path) {
    GuardFailure failure;
    std::optional<core::state::StateSections> sections;
    std::string io_error;
    ReadOutcome outcome = ReadOutcome::Failed;
    run_catching(
        [&] {
            std::vector<unsigned char> bytes;
            outcome = read_bytes(path, bytes, io_error);
            if (outcome == ReadOutcome::Ok) sections = core::state::decode_state(bytes);
        },
        failure);
    if (outcome == ReadOutcome::Missing) return std::nullopt;
    if (failure.failed || outcome == ReadOutcome::Failed) {
        ereport(WARNING,
                (errmsg("rubberduck_agents: ignoring state file \"%s\": %s", path.c_str(),
                        failure.failed ? failure.message : io_error.c_str()),
                 errdetail("Learned state starts fresh; the file is overwritten at the next save.")));
        return std::nullopt;
    }
    return sections;
}

namespace {

void load_sections(const std::string &path, const StateSectionProvider *const *list, int count) {
    auto sections = read_state_file(path);
    if (!sections) return;
    for (int i = 0; i < count; ++i) {
        auto it = sections->find(list[i]->name);
        if (it == sections->end()) continue;
        GuardFailure failure;
        run_catching(
            [&] {
                core::ByteReader in(it->second.payload);
                list[i]->load(it->second.version, in);
            },
            failure);
        if (failure.failed)
            ereport(WARNING, (errmsg("rubberduck_agents: ignoring state section \"%s\" of \"%s\": %s",
                                     list[i]->name, path.c_str(), failure.message),
                              errdetail("That part of the learned state starts fresh.")));
    }
}

bool save_sections(const std::string &path, const StateSectionProvider *const *list, int count) {
    core::state::StateSections sections;
    GuardFailure failure;
    run_catching(
        [&] {
            for (int i = 0; i < count; ++i) {
                core::ByteWriter out;
                list[i]->save(out);
                sections[list[i]->name] = {list[i]->version, out.take()};
            }
        },
        failure);
    if (failure.failed) {
        ereport(WARNING, (errmsg("rubberduck_agents: could not collect state for \"%s\": %s", path.c_str(),
                                 failure.message)));
        return false;
    }
    return write_state_file(path, sections);
}

int shmem_list(const StateSectionProvider **out) {
    for (int i = 0; i < provider_count; ++i) out[i] = &providers[i];
    return provider_count;
}

int agent_list(core::runtime::AgentId agent, const StateSectionProvider **out) {
    int n = 0;
    for (int i = 0; i < agent_section_count; ++i)
        if (agent_sections[i].agent == agent) out[n++] = &agent_sections[i].provider;
    return n;
}

}  // namespace

void register_agent_state_section(core::runtime::AgentId agent, const StateSectionProvider &provider) {
    if (agent_section_count >= kMaxSections) elog(ERROR, "rubberduck_agents: too many agent state sections");
    agent_sections[agent_section_count++] = {agent, provider};
}

void load_shmem_state() {
    const StateSectionProvider *list[kMaxSections];
    int n = shmem_list(list);
    load_sections(shmem_state_path(), list, n);
}

bool save_shmem_state() {
    const StateSectionProvider *list[kMaxSections];
    int n = shmem_list(list);
    return save_sections(shmem_state_path(), list, n);
}

void load_agent_state(core::runtime::AgentId agent) {
    const StateSectionProvider *list[kMaxSections];
    int n = agent_list(agent, list);
    if (n > 0) load_sections(agent_state_path(core::runtime::agent_name(agent).data()), list, n);
}

bool save_agent_state(core::runtime::AgentId agent) {
    const StateSectionProvider *list[kMaxSections];
    int n = agent_list(agent, list);
    return n == 0 || save_sections(agent_state_path(core::runtime::agent_name(agent).data()), list, n);
}

void shmem_state_dump_at_exit(int code, Datum) {
    // After a crash shared memory may be inconsistent: keep the last periodic save instead (as
    // pg_stat_statements).
    if (code != 0) return;
    save_shmem_state();
}

}  // namespace rubberduck::pg
