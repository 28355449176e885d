/* store_gaps - zero the bytes of data.mdb pages that no reader ever reads:
 * the second half of store_scrub (store_scrub.c), run while it holds the
 * writer lock and after every free page that no snapshot reaches was
 * zeroed whole.
 *
 * Why: liblmdb 0.9.24 copies only the used parts of a page on
 * copy-on-write (mdb_page_copy: the header and pointer array up to
 * mp_lower, the nodes from mp_upper to the end) into a buffer it takes
 * from its cache of old dirty pages without clearing it (mdb_page_malloc,
 * me_dpages), then writes the whole buffer. So the gap [mp_lower,
 * mp_upper) of a page in use, the odd pad byte after a node, and the end
 * of the last page of a big value can hold stale bytes of any page the
 * process handled - an erased address, IP or user agent.
 *
 * Page layout (liblmdb 0.9.24, PAGEBASE 0, all little-endian here): a
 * 16-byte header {pgno u64, pad u16, flags u16, lower u16, upper u16}
 * (overflow pages: u32 page count instead of lower/upper), then lower-16
 * bytes of u16 node offsets; a node is {lo u16, hi u16, flags u16, ksize
 * u16, key, data}: branch nodes carry no data (lo/hi/flags are the child
 * page number), leaf nodes carry lo|hi<<16 bytes of data, or for a big
 * value (F_BIGDATA) the u64 number of its first overflow page. Overflow
 * continuation pages have no header.
 *
 * Safety: readers (other processes included) only read headers, pointer
 * arrays, nodes and values, which we never write; we write zeros only
 * where nothing is ever read. The writer lock keeps other writers out.
 * The env is not MDB_WRITEMAP and the scrub transaction dirties no page,
 * so there is no buffer of ours that a commit could write back over the
 * zeros. The store opens no MDB_DUPSORT database, so there are no
 * sub-pages (P_SUBP) or LEAF2 pages; a dupsort node's bytes would be left
 * untouched (counted as used) and a LEAF2 page is reported as corrupt. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define PG_HDR 16
#define PG_BRANCH 0x01
#define PG_LEAF 0x02
#define PG_OVERFLOW 0x04
#define PG_META 0x08
#define PG_DIRTY 0x10
#define PG_LEAF2 0x20
#define NODE_HDR 8
#define NODE_BIGDATA 0x01

/* A big value: its first overflow page and its size (from the leaf node),
 * or its page count (from the overflow page). */
struct ov {
    uint64_t pgno;
    uint64_t n;
};

struct walk {
    int fd;
    size_t psize, npages;
    const uint8_t *cls;
    uint8_t *page, *used;
    struct ov *refs, *runs; /* leaf references, live overflow runs */
    size_t nrefs, nruns, cap_refs, cap_runs;
};

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int ov_push(struct ov **a, size_t *n, size_t *cap, uint64_t pgno, uint64_t v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct ov *p = realloc(*a, c * sizeof *p);
        if (p == NULL)
            return STORE_ENOMEM;
        *a = p;
        *cap = c;
    }
    (*a)[(*n)++] = (struct ov){pgno, v};
    return STORE_OK;
}

/* Zero the runs of bytes [from, to) of page buffer `page` (file offset
 * base) that are unused and not already zero. */
static int zero_unused(struct walk *w, off_t base, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        if (w->used[i] || w->page[i] == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < to && !w->used[j])
            j++;
        memset(w->page + i, 0, j - i);
        if (pwrite(w->fd, w->page + i, j - i, base + (off_t)i) != (ssize_t)(j - i))
            return STORE_EIO;
        i = j;
    }
    return STORE_OK;
}

/* Mark the used bytes of a branch or leaf page, note its big values (for
 * a live page), and zero the rest. */
static int scrub_node_page(struct walk *w, uint64_t pg, int leaf, int live)
{
    size_t lower = get16(w->page + 12), upper = get16(w->page + 14);

    if (lower < PG_HDR || lower > upper || upper > w->psize || lower % 2)
        return STORE_ECORRUPT;
    memset(w->used, 1, lower);
    memset(w->used + lower, 0, w->psize - lower);
    for (size_t i = 0; i < (lower - PG_HDR) / 2; i++) {
        size_t off = get16(w->page + PG_HDR + 2 * i);
        if (off < upper || off + NODE_HDR > w->psize)
            return STORE_ECORRUPT;
        const uint8_t *nd = w->page + off;
        size_t dsize = get16(nd) | (size_t)get16(nd + 2) << 16;
        size_t size = NODE_HDR + get16(nd + 6);
        if (leaf && (get16(nd + 4) & NODE_BIGDATA)) {
            uint64_t ovpg;
            if (off + size + sizeof ovpg > w->psize)
                return STORE_ECORRUPT;
            memcpy(&ovpg, nd + size, sizeof ovpg);
            size += sizeof ovpg;
            if (live &&
                ov_push(&w->refs, &w->nrefs, &w->cap_refs, ovpg, dsize) != STORE_OK)
                return STORE_ENOMEM;
        } else if (leaf) {
            size += dsize;
        }
        if (off + size > w->psize)
            return STORE_ECORRUPT;
        memset(w->used + off, 1, size);
    }
    return zero_unused(w, (off_t)(pg * w->psize), lower, w->psize);
}

/* One page (or overflow run) at pg; *next gets the page after it. */
static int scrub_page(struct walk *w, uint64_t pg, uint64_t *next)
{
    int live = w->cls[pg] == ST_PG_LIVE;
    uint64_t hpg;
    uint16_t flags;

    *next = pg + 1;
    ssize_t n = pread(w->fd, w->page, w->psize, (off_t)(pg * w->psize));
    if (n < 0 || (live && (size_t)n != w->psize))
        return STORE_EIO;
    /* a free page our commit took from the end of the file and freed
     * again was never written: the file may end before it */
    memset(w->page + n, 0, w->psize - (size_t)n);
    memcpy(&hpg, w->page, sizeof hpg);
    flags = get16(w->page + 10) & (uint16_t)~PG_DIRTY;
    if (hpg != pg) /* held: a loose page of our own commit, never written */
        return live ? STORE_ECORRUPT : STORE_OK;
    if (flags & PG_OVERFLOW) {
        uint32_t count;
        memcpy(&count, w->page + 12, sizeof count);
        if (count == 0 || count > w->npages - pg)
            return STORE_ECORRUPT;
        *next = pg + count;
        return live ? ov_push(&w->runs, &w->nruns, &w->cap_runs, pg, count) : STORE_OK;
    }
    if ((flags & (PG_LEAF2 | PG_META)) || !(flags & (PG_BRANCH | PG_LEAF)))
        return live ? STORE_ECORRUPT : STORE_OK;
    return scrub_node_page(w, pg, (flags & PG_LEAF) != 0, live);
}

static int ov_cmp(const void *a, const void *b)
{
    const struct ov *x = a, *y = b;
    return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

/* The end of the last page of every live big value, past its size. The
 * runs are in page order (the walk); every run has one leaf reference. */
static int scrub_tails(struct walk *w)
{
    size_t r = 0;

    if (w->nrefs > 0) /* qsort wants a non-null base even for 0 */
        qsort(w->refs, w->nrefs, sizeof *w->refs, ov_cmp);
    for (size_t i = 0; i < w->nruns; i++) {
        while (r < w->nrefs && w->refs[r].pgno < w->runs[i].pgno)
            r++;
        if (r == w->nrefs || w->refs[r].pgno != w->runs[i].pgno)
            return STORE_ECORRUPT;
        /* a value rewritten in place may be shorter than its run */
        uint64_t end = PG_HDR + w->refs[r].n, stop = w->runs[i].n * w->psize;
        if (end > stop)
            return STORE_ECORRUPT;
        memset(w->used, 0, w->psize);
        for (uint64_t rel = end - end % w->psize; rel < stop; rel += w->psize) {
            off_t base = (off_t)(w->runs[i].pgno * w->psize + rel);
            if (pread(w->fd, w->page, w->psize, base) != (ssize_t)w->psize)
                return STORE_EIO;
            int rc = zero_unused(w, base, rel < end ? end - rel : 0, w->psize);
            if (rc != STORE_OK)
                return rc;
        }
    }
    return STORE_OK;
}

/* Pages past the last one in use: only an aborted transaction that
 * spilled dirty pages writes there. */
static int scrub_beyond(struct walk *w)
{
    struct stat sb;

    if (fstat(w->fd, &sb) != 0)
        return STORE_EIO;
    memset(w->used, 0, w->psize);
    for (off_t off = (off_t)(w->npages * w->psize); off < sb.st_size;
         off += (off_t)w->psize) {
        ssize_t n = pread(w->fd, w->page, w->psize, off);
        if (n < 0)
            return STORE_EIO;
        int rc = zero_unused(w, off, 0, (size_t)n);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

int st_gaps_zero(int fd, size_t psize, size_t npages, const uint8_t *cls)
{
    struct walk w = {.fd = fd, .psize = psize, .npages = npages, .cls = cls};
    int rc = STORE_ENOMEM;

    if ((w.page = malloc(psize)) == NULL || (w.used = malloc(psize)) == NULL)
        goto out;
    rc = STORE_OK;
    for (uint64_t pg = 2, next; pg < npages && rc == STORE_OK; pg = next) {
        next = pg + 1;
        if (cls[pg] != ST_PG_ZEROED)
            rc = scrub_page(&w, pg, &next);
    }
    if (rc == STORE_OK)
        rc = scrub_tails(&w);
    if (rc == STORE_OK)
        rc = scrub_beyond(&w);
out:
    free(w.page);
    free(w.used);
    free(w.refs);
    free(w.runs);
    return rc;
}
