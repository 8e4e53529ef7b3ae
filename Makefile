# rubberduck_agents — PGXS build of the extension (core compiled straight into the .so), plus test/demo targets.
EXTENSION   = rubberduck_agents
EXTVERSION  = 0.1.0
MODULE_big  = rubberduck_agents

CORE_SRCS := $(shell find src/core -name '*.cpp' | sort)
PG_SRCS   := $(shell find src/pg -name '*.cpp' | sort)
OBJS       = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The install script is assembled from one part per area (extension/parts/NN_*.sql), in name order.
SQL_PARTS  := $(sort $(wildcard extension/parts/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(wildcard extension/$(EXTENSION)--*--*.sql)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -Isrc
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -Wno-unused-parameter $(RD_WERROR)
SHLIB_LINK += -lstdc++
# Debian's server is built with LLVM; we do not ship JIT bitcode for C++ (cpp-in-postgres.md §5).
override with_llvm = no

EXTRA_CLEAN = .deps build tmp_check results regression.diffs regression.out

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat /dev/null $^ > $@

# Dependency files live in .deps/ (not beside the sources, where formatters and globs would trip over them).
%.o: %.cpp
	@mkdir -p .deps
	$(COMPILE.cc) -MMD -MP -MF .deps/$(subst /,__,$@).d -o $@ $<

-include $(wildcard .deps/*.d)

.PHONY: deps unit sandbox test demo demo-stop format
deps:
	scripts/install_deps.sh

# Unit tests of the pure core (CMake + CTest, no PostgreSQL include path). No optimisation: Boost-heavy tests
# compile several times faster at -O0, and CI time is what they cost.
unit:
	cmake -S . -B build -DCMAKE_BUILD_TYPE= >/dev/null && cmake --build build -j2 && (cd build && ctest --output-on-failure)

# A private copy of the server with this build installed into it (tests never touch the system install).
sandbox: all
	scripts/sandbox_install.sh

test:
	scripts/install_deps.sh
	tests/run_all.sh

demo:
	scripts/install_deps.sh
	$(MAKE) all
	$(MAKE) install
	scripts/demo.sh

demo-stop:
	@if [ -f tmp/demo/data/postmaster.pid ]; then runuser -u postgres -- $$(pg_config --bindir)/pg_ctl -D tmp/demo/data -m fast stop 2>/dev/null || $$(pg_config --bindir)/pg_ctl -D tmp/demo/data -m fast stop; fi

format:
	find src tests/unit -name '*.cpp' -o -name '*.hpp' -o -name '*.h' | xargs clang-format -i
