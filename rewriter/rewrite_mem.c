/* rewrite_mem - the engine's working-memory account (see rewrite.c):
 * what a message's leaves, sites and output hold is charged to a ceiling
 * (eng->mem_max) and given back as each part is released. Below both
 * rewrite.c (decode, scan, decide) and rewrite_out.c (write), which charge
 * and release through it. No allocation of its own; fails only by
 * RW_ELIMIT with the reason in rep->error. */
#include <string.h>

#include "rewriter/rewrite_int.h"

int rw_eng_charge(struct eng *e, size_t n)
{
    e->mem += n;
    if (e->mem <= e->mem_max)
        return RW_OK;
    ERR(e, "message needs more than %zu bytes of working memory (at most 3x its size + "
           "8 MiB)",
        e->mem_max);
    return RW_ELIMIT;
}

void rw_eng_refund(struct eng *e, size_t n)
{
    e->mem -= n < e->mem ? n : e->mem;
}

void rw_eng_leaf_release(struct eng *e, struct leaf *l)
{
    size_t j;

    if (l->borrowed)
        memset(&l->text, 0, sizeof l->text);
    else if (l->text.cap > 0)
        rw_eng_refund(e, l->text.cap + l->qpt.cap * sizeof *l->qpt.v);
    buf_free(&l->text);
    l->borrowed = 0;
    if (l->repl)
        for (j = 0; j < l->sites.n; j++)
            rw_repl_free(l->repl[j]);
    g_free(l->repl);
    l->repl = NULL;
    g_free(l->cnt);
    l->cnt = NULL;
    g_free(l->qpt.v);
    memset(&l->qpt, 0, sizeof l->qpt);
    rw_sites_free(&l->sites);
    rw_eng_refund(e, l->cost);
    l->cost = 0;
}
