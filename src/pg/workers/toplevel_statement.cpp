// See toplevel_statement.hpp.
#include "pg/workers/toplevel_statement.hpp"

extern "C" {
#include "access/xact.h"
#include "parser/analyze.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
}

namespace rubberduck::pg {

void exec_toplevel(const char *sql, MemoryContext parent, int cursor_options, RawStatementCheck check) {
    MemoryContext parse_context =
        AllocSetContextCreate(parent, "rubberduck top-level statement", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(parse_context);
    List *raw = pg_parse_query(sql);
    if (check) check(raw);
    ListCell *lc;
    foreach (lc, raw) {
        RawStmt *parsetree = lfirst_node(RawStmt, lc);
        CommandTag tag = CreateCommandTag(parsetree->stmt);
        set_ps_display(GetCommandTagName(tag));
        bool snapshot_set = false;
        if (analyze_requires_snapshot(parsetree)) {
            PushActiveSnapshot(GetTransactionSnapshot());
            snapshot_set = true;
        }
        MemoryContextSwitchTo(parse_context);
        List *queries = pg_analyze_and_rewrite_fixedparams(parsetree, sql, nullptr, 0, nullptr);
        List *plans = pg_plan_queries(queries, sql, cursor_options, nullptr);
        if (snapshot_set) PopActiveSnapshot();
        Portal portal = CreatePortal("", true, true);
        portal->visible = false;
        PortalDefineQuery(portal, nullptr, sql, tag, plans, nullptr);
        PortalStart(portal, nullptr, 0, InvalidSnapshot);
        int16 format = 0;
        PortalSetResultFormat(portal, 1, &format);
        DestReceiver *receiver = CreateDestReceiver(DestNone);
        QueryCompletion qc;
        (void)PortalRun(portal, FETCH_ALL, list_length(raw) == 1, true, receiver, receiver, &qc);
        receiver->rDestroy(receiver);
        PortalDrop(portal, false);
        CommandCounterIncrement();
    }
    set_ps_display("idle");
    MemoryContextSwitchTo(old);
    MemoryContextDelete(parse_context);
}

}  // namespace rubberduck::pg
